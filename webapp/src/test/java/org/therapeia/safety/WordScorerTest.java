package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The learned word weights: read as the trainer wrote them, and where the detector listens to them. */
class WordScorerTest {

    private static final WordScorer ENGLISH = WordScorer.load("en").orElseThrow();

    @ParameterizedTest
    @ValueSource(strings = {"en", "es", "fr", "de"})
    void scoresAsTheTrainerDid(String language) throws Exception {
        WordScorer scorer = WordScorer.load(language).orElseThrow();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("safety/words-" + language + ".json");
             JsonReader reader = Json.createReader(in)) {
            var checks = reader.readObject().getJsonArray("checks");
            assertTrue(checks.size() >= 5, "the trainer writes its own scores of some messages");
            for (JsonObject check : checks.getValuesAs(JsonObject.class)) {
                String text = check.getString("text");
                for (Level head : List.of(Level.RISK, Level.HIGH, Level.IMMINENT)) {
                    assertEquals(check.getJsonNumber(head.label()).doubleValue(), scorer.probability(head, text), 1e-6,
                            head + ": " + text);
                }
            }
        }
    }

    @Test
    void featuresAreStemsAdjacentPairsAndPairsOneApart() {
        // an apostrophe is dropped in English: "don't" and "dont" are one word however it is typed
        assertEquals(Set.of("i", "dont", "want", "i dont", "dont want", "i _ want"),
                ENGLISH.features("I DON\u2019T want!"));
        assertEquals(ENGLISH.features("I DON\u2019T want!"), ENGLISH.features("i dont want"));
        assertEquals(Set.of("want", "pill", "want pill"), ENGLISH.features("Wanted pills"));
        assertEquals("burn", ENGLISH.stem("burning"));
        assertEquals(Set.of("sister"), ENGLISH.features("sister's"));
        assertEquals("was", ENGLISH.stem("was")); // an ending that would leave fewer than three letters stays
        assertEquals(Set.of(), ENGLISH.features("123 ... \u2764"));
        assertEquals(Set.of("cafe"), ENGLISH.features("Caf\u00e9"));
        assertEquals("strasse", WordScorer.normalised("Stra\u00dfe"));
    }

    @Test
    void otherLanguagesCutTheirOwnEndingsAndSplitElisions() {
        WordScorer french = WordScorer.load("fr").orElseThrow();
        // "j'ai" is two words in French; the accent goes, so "arrete" and "arr\u00eat\u00e9" are one word
        assertEquals(Set.of("j", "ai", "j ai"), french.features("J\u2019ai"));
        assertEquals(french.features("arrete"), french.features("arr\u00eat\u00e9"));
        WordScorer spanish = WordScorer.load("es").orElseThrow();
        assertEquals(spanish.stem("morir"), spanish.stem("morirme"));
        assertEquals(WordScorer.load("de").orElseThrow().stem("sterben"), WordScorer.load("de").orElseThrow().stem("sterbe"));
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
    void eachMessageIsReadByTheWeightsOfItsLanguage() {
        List<String> languages = List.of("en", "es", "fr", "de");
        RuleDetector detector = new RuleDetector(languages);
        Map<String, String> messages = Map.of(
                "en", "honestly I just want to sleep and never wake up, everyone would be better off",
                "es", "ya no aguanto mas, quisiera dormirme y no despertar nunca, todos estarian mejor sin mi",
                "fr", "je voudrais juste m'endormir et ne plus jamais me reveiller, tout le monde serait mieux sans moi",
                "de", "ich will einfach nur einschlafen und nie wieder aufwachen, alle waeren ohne mich besser dran");
        messages.forEach((language, message) -> {
            int own = WordScorer.load(language).orElseThrow().knownWords(message);
            for (String other : languages) {
                if (!other.equals(language)) {
                    assertTrue(WordScorer.load(other).orElseThrow().knownWords(message) < own, other + " reads " + language);
                }
            }
            List<Signal> signals = detector.detect(message, false);
            assertTrue(signals.stream().map(Signal::level).anyMatch(l -> l.atLeast(Level.RISK)), language);
            assertFalse(signals.stream().anyMatch(s -> s.ruleId().startsWith("words-")
                    && !s.ruleId().startsWith("words-" + language + "@")), language + ": " + signals);
        });
    }

    @Test
    void aMessageOfWordsNoWeightsKnowIsLeftToTheRules() {
        RuleDetector detector = new RuleDetector(List.of("en", "es", "fr", "de"));
        // Spanish texting knows "x" ("por"); its weights' bias alone is above the threshold
        WordScorer spanish = WordScorer.load("es").orElseThrow();
        assertEquals(1, spanish.knownWords("hello x"));
        assertEquals(Level.RISK, spanish.read("hello x", 0.5).level(), "pick a message the Spanish bias flags");
        for (String message : List.of("hello x", "x", "qwzx vbnm")) {
            assertTrue(detector.detect(message, false).isEmpty(), message);
        }
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
        String message = "ok it's done, I took them"; // the rules read an act only after distress (RuleDetectorTest)
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
