package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** How a concept frame becomes patterns: concepts in order, bounded gaps, and what a gap may not hold. */
class ConceptFrameTest {

    private static final Map<String, String> LEXICONS = Map.of(
            "BENEFIT", "better off|easier|less stressed",
            "ABSENT", "without me|with me gone");
    /** No negation and no new subject inside a gap, as the English rule file has it. */
    private static final String GAP_WORD = ",? (?!(?:not|never|she|he|my)\\b)[\\w']+";

    private static boolean matches(List<String> regexes, String text) {
        return regexes.stream().anyMatch(r -> Pattern.compile(r).matcher(text).find());
    }

    @Test
    void everyCombinationOfTheLexiconsMatches() {
        List<String> frame = ConceptFrame.patterns(List.of("BENEFIT", "ABSENT"), LEXICONS, GAP_WORD, 3, false, "test");
        assertTrue(matches(frame, "everyone would be better off without me"));
        assertTrue(matches(frame, "they'd be less stressed with me gone"));
        assertTrue(matches(frame, "it would be easier for everyone without me"), "three words apart");
    }

    @Test
    void gapsAreBounded() {
        List<String> frame = ConceptFrame.patterns(List.of("BENEFIT", "ABSENT"), LEXICONS, GAP_WORD, 2, false, "test");
        assertFalse(matches(frame, "it would be easier for all of them without me"));
    }

    @Test
    void aGapHoldsNoNegationAndNoNewSubject() {
        List<String> frame = ConceptFrame.patterns(List.of("BENEFIT", "ABSENT"), LEXICONS, GAP_WORD, 4, false, "test");
        assertFalse(matches(frame, "they're better off not without me"));
        assertFalse(matches(frame, "it's easier she said without me"));
    }

    @Test
    void orderMattersUnlessTheFrameSaysAnyOrder() {
        String text = "with me gone they'd all be less stressed";
        assertFalse(matches(ConceptFrame.patterns(List.of("BENEFIT", "ABSENT"), LEXICONS, GAP_WORD, 3, false, "t"), text));
        List<String> anyOrder = ConceptFrame.patterns(List.of("BENEFIT", "ABSENT"), LEXICONS, GAP_WORD, 3, true, "t");
        assertEquals(2, anyOrder.size());
        assertTrue(matches(anyOrder, text));
    }

    @Test
    void conceptsMatchWholeWords() {
        List<String> frame = ConceptFrame.patterns(List.of("ABSENT"), LEXICONS, GAP_WORD, 0, false, "test");
        assertFalse(matches(frame, "without meaning to"));
    }

    @Test
    void anUnknownConceptIsALoadError() {
        assertThrows(IllegalArgumentException.class,
                () -> ConceptFrame.patterns(List.of("BENEFIT", "NOPE"), LEXICONS, GAP_WORD, 3, false, "test"));
    }
}
