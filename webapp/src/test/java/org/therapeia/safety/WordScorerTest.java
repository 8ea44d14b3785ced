package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.InputStream;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The learned word weights: read as the trainer wrote them, and where the detector listens to them. */
class WordScorerTest {

    private static final WordScorer ENGLISH = WordScorer.load("en").orElseThrow();

    @Test
    void scoresAsTheTrainerDid() throws Exception {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("safety/words-en.json");
             JsonReader reader = Json.createReader(in)) {
            var checks = reader.readObject().getJsonArray("checks");
            assertTrue(checks.size() >= 5, "the trainer writes its own scores of some messages");
            for (JsonObject check : checks.getValuesAs(JsonObject.class)) {
                String text = check.getString("text");
                for (Level head : List.of(Level.RISK, Level.HIGH, Level.IMMINENT)) {
                    assertEquals(check.getJsonNumber(head.label()).doubleValue(), ENGLISH.probability(head, text), 1e-6,
                            head + ": " + text);
                }
            }
        }
    }

    @Test
    void featuresAreStemsAdjacentPairsAndPairsOneApart() {
        assertEquals(Set.of("i", "don't", "want", "i don't", "don't want", "i _ want"),
                WordScorer.features("I DON\u2019T want!"));
        assertEquals(Set.of("want", "pill", "want pill"), WordScorer.features("Wanted pills"));
        assertEquals("burn", WordScorer.stem("burning"));
        assertEquals("sister", WordScorer.stem("sister's"));
        assertEquals("was", WordScorer.stem("was")); // an ending that would leave fewer than three letters stays
        assertEquals(Set.of(), WordScorer.features("123 ... \u00e9"));
    }

    @Test
    void anEmergencyTheWeightsCallMedicalIsImminent() {
        RuleDetector detector = new RuleDetector(List.of("en"));
        String message = "My husband's face has dropped on one side and he can't lift his right arm";
        assertFalse(detector.detect(message, false).stream().anyMatch(s -> !s.ruleId().startsWith("words-")),
                "the rules know these symptoms now: pick another message");
        Signal words = detector.detect(message, false).stream()
                .filter(s -> s.ruleId().startsWith("words-en@")).findFirst().orElseThrow();
        assertEquals(Category.MEDICAL_EMERGENCY, words.category());
        assertEquals(Level.IMMINENT, words.level());
    }

    @Test
    void languagesWithoutWeightsHaveNone() {
        assertTrue(WordScorer.load("xx").isEmpty());
    }

    @Test
    void theDetectorVersionNamesTheWeights() {
        assertTrue(new RuleDetector(List.of("en")).version().contains(",words-en@"));
    }

    @Test
    void theWeightsLearnedNegationAndThePast() {
        // they are asked even where a rule saw a negation, so they must not read these as risk themselves
        for (String message : List.of("I'm not suicidal, I just miss my dad and want to stop feeling empty.",
                "Years ago I wanted to die and hurt myself, but I'm doing well now.")) {
            assertEquals(Level.NONE, ENGLISH.read(message, 0.5).level(), message);
        }
    }

    @Test
    void theWeightsAddToTheRulesWhereTheySeeMore() {
        RuleDetector detector = new RuleDetector(List.of("en"));
        String message = "ok I took them"; // the rules read an act only after distress (RuleDetectorTest)
        assertTrue(ENGLISH.read(message, 0.5).level().compareTo(Level.RISK) > 0);
        Signal words = detector.detect(message, false).stream()
                .filter(s -> s.ruleId().startsWith("words-en@")).findFirst().orElseThrow();
        // words alone tell an errand from an act less well: where the rules see no risk, a higher head
        // counts only from 0.7, not 0.5
        assertEquals(ENGLISH.read(message, 0.7).level(), words.level());
        assertTrue(ENGLISH.probability(words.level(), message) >= 0.7, words.level().toString());
        assertEquals(ENGLISH.read(message, 0.7).category(), words.category());
        // where the rules already see more, the weights add nothing
        assertFalse(detector.detect(message, true).stream().anyMatch(s -> s.ruleId().startsWith("words-")));
    }

    @Test
    void aLongMessageCountsEachFeatureOnce() {
        String message = "i don't want to be here anymore. ";
        // a set of features, not a count: saying it 400 times (13,200 characters) scores as saying it twice
        assertEquals(ENGLISH.probability(Level.RISK, message.repeat(2)),
                ENGLISH.probability(Level.RISK, message.repeat(400)), 1e-12);
        assertEquals(ENGLISH.read(message.repeat(2), 0.5), ENGLISH.read(message.repeat(400), 0.5));
    }
}
