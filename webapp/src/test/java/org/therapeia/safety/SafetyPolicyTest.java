package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.therapeia.TestConfig;
import org.therapeia.api.ChatMessage;
import org.therapeia.config.SafetyConfig;

/** What each level changes: cache, prompt, resources and their order, the output check, the disclosure. */
class SafetyPolicyTest {

    private static SafetyService service(Map<String, String> env, NoSafetyMetrics metrics) {
        SafetyService s = new SafetyService(new SafetyConfig(TestConfig.config(env)), metrics);
        s.start();
        return s;
    }

    @Test
    void levelTwoAppendsLevelThreeAndFourPrecede() {
        SafetyService s = service(Map.of(), new NoSafetyMetrics());
        Screening risk = s.screen("I want to die.", List.of(), null, false);
        assertFalse(s.cacheAllowed(risk));
        assertTrue(s.systemPrompt(risk, "Be kind.").startsWith("Be kind.\n\nThe person may be in crisis."));
        assertEquals("", s.prefix(risk));
        assertTrue(s.suffix(risk).contains("988"));

        Screening high = s.screen("I have the pills saved up.", List.of(), "en-US", false);
        assertTrue(s.prefix(high).startsWith("You don't have to go through this alone"));
        assertEquals("", s.suffix(high));

        Screening imminent = s.screen("I took the whole bottle.", List.of(), "en-CA", false);
        assertTrue(s.prefix(imminent).startsWith("If you are in danger right now, please call 911"));
        SafetyReport report = s.report(imminent);
        assertEquals(4, report.level());
        assertEquals("imminent", report.label());
        assertEquals("911", report.resources().get(0).phone(), "emergency number first at level 4");

        Screening none = s.screen("I had a good day.", List.of(), null, false);
        assertTrue(s.cacheAllowed(none));
        assertEquals("Be kind.", s.systemPrompt(none, "Be kind."));
        assertTrue(s.report(none).resources().isEmpty());
    }

    @Test
    void localesResolveToTheirTableOrTheFallback() {
        ResourceDirectory d = new ResourceDirectory(List.of("US", "CA", "GB", "IE", "EU"), "US", "EU");
        assertEquals("US", d.resolve(null).locale());
        assertEquals("GB", d.resolve("en-GB").locale());
        assertEquals("CA", d.resolve("fr-CA").locale());
        assertEquals("IE", d.resolve("ga-IE").locale());
        assertEquals("EU", d.resolve("de-DE").locale());
        assertEquals("US", d.resolve("en").locale());
        assertEquals("US", d.resolve("not a tag!").locale());
    }

    @Test
    void theShippedTablesAreCompleteAndRecentAndGoStale() {
        ResourceDirectory d = new ResourceDirectory(List.of("US", "CA", "GB", "IE", "EU"), "US", "EU");
        assertEquals(List.of(), d.problems(LocalDate.of(2026, 12, 4), 90));
        List<String> stale = d.problems(LocalDate.of(2027, 6, 1), 90);
        assertEquals(11, stale.size(), stale::toString);
        assertTrue(stale.get(0).startsWith("CA: 'Emergency services' last verified"));
    }

    @Test
    void aTableWithoutAnEmergencyNumberOrAnAlwaysOpenLineIsAProblem() {
        // test table ZZ: one daytime helpline, nothing else
        ResourceDirectory d = new ResourceDirectory(List.of("US", "ZZ"), "US", "US");
        assertEquals(List.of("ZZ: no emergency number", "ZZ: no 24/7 crisis line"),
                d.problems(LocalDate.of(2026, 12, 4), 90));
    }

    @Test
    void theDisclosureGoesOnlyWithAFirstReply() {
        SafetyService s = service(Map.of("SAFETY_DISCLOSURE_TEXT", "I am an AI, not a human."), new NoSafetyMetrics());
        assertEquals("I am an AI, not a human.\n\n", s.prefix(s.screen("Hello", List.of(), null, true)));
        assertEquals("", s.prefix(s.screen("Hello again", List.of(new ChatMessage(ChatMessage.USER, "Hello")), null, false)));
    }

    @Test
    void aFailedDetectionIsLevelTwoAndCounted() {
        NoSafetyMetrics metrics = new NoSafetyMetrics();
        SafetyService s = service(Map.of("SAFETY_DETECTOR_TIMEOUT_MS", "1"), metrics);
        // a message long enough to outlast one millisecond
        Screening screening = s.screen("I feel like everything is falling apart and ".repeat(90), List.of(), null,
                false);
        assertTrue(screening.assessment().detectorFailed());
        assertEquals(Level.RISK, screening.assessment().level());
        assertFalse(s.cacheAllowed(screening));
        assertEquals(1, metrics.errors.get());
    }

    @Test
    void theEventCarriesNoText() {
        Assessment a = new Assessment(Level.HIGH, List.of(Category.SUICIDE), Set.of(AtRisk.SELF), false, false, false,
                false);
        SafetyEvent e = new SafetyEvent("id-1", java.time.Instant.parse("2026-12-04T10:00:00.123Z"), a, "rules",
                "en@1", List.of("cache_bypass"), "US", "model");
        assertEquals("{\"event\":\"crisis_signal\",\"event_id\":\"id-1\",\"time\":\"2026-12-04T10:00:00Z\","
                + "\"level\":3,\"label\":\"high\",\"categories\":[\"suicide\"],\"at_risk\":[\"self\"],"
                + "\"negated\":false,\"past\":false,\"from_history\":false,\"detector_failed\":false,"
                + "\"detector\":\"rules\",\"rule_set\":\"en@1\",\"actions\":[\"cache_bypass\"],\"locale\":\"US\","
                + "\"model\":\"model\"}", e.toJson().toString());
    }

    @Test
    void aGuardedStreamHoldsBackMethodDetailsAndReportsTheReplacement() {
        List<String> sent = new ArrayList<>();
        RuleDetector detector = new RuleDetector(List.of("en"));
        GuardedPieces guard = new GuardedPieces(sent::add, detector::mentionsMethod);
        String safe = "I'm really sorry you're feeling this way. ".repeat(8);
        guard.accept(safe);
        guard.accept("The lethal dose of that is 10 grams.");
        String reply = safe + "The lethal dose of that is 10 grams.";
        assertTrue(guard.finish(reply));
        assertFalse(String.join("", sent).contains("lethal"), "the detail never left");

        List<String> clean = new ArrayList<>();
        GuardedPieces ok = new GuardedPieces(clean::add, detector::mentionsMethod);
        ok.accept(safe);
        assertFalse(ok.finish(safe));
        assertEquals(safe, String.join("", clean));
    }
}
