package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Misspelt key words read as the word meant, and the ordinary words that must stay. */
class FuzzyLemmasTest {

    private static final FuzzyLemmas LEMMAS = new FuzzyLemmas(
            List.of("suicide", "suicidal", "myself", "disappear", "umbringen"), Set.of("suicides", "umzubringen"), 5);

    @Test
    void oneEditAwayIsTheLemma() {
        assertEquals("i feel suicidal", LEMMAS.correct("i feel sucidal"));      // a letter left out
        assertEquals("kill myself", LEMMAS.correct("kill mysefl"));              // two letters swapped
        assertEquals("thinking about suicide", LEMMAS.correct("thinking about suicude")); // one letter wrong
    }

    @Test
    void longLemmasAllowTwoEdits() {
        assertEquals("i want to disappear", LEMMAS.correct("i want to dissapear"));
    }

    @Test
    void ofEquallyCloseLemmasTheOneOfTheSameLengthWins() {
        // "suicidel" is one edit from both "suicide" (a letter added) and "suicidal" (a letter changed)
        assertEquals("i feel suicidal", LEMMAS.correct("i feel suicidel"));
    }

    @Test
    void ordinaryWordsStay() {
        assertEquals("my self esteem", LEMMAS.correct("my self esteem"));           // short words are never changed
        assertEquals("two suicides in the news", LEMMAS.correct("two suicides in the news")); // listed as kept
        assertEquals("versucht mich umzubringen", LEMMAS.correct("versucht mich umzubringen"));
        assertEquals("the display is broken", LEMMAS.correct("the display is broken")); // a different first letter
        assertEquals("musical", LEMMAS.correct("musical"));
    }

    @Test
    void theDistanceCountsASwapAsOneEdit() {
        assertEquals(1, FuzzyLemmas.distance("mysefl", "myself", 2));
        assertEquals(2, FuzzyLemmas.distance("dissapear", "disappear", 2));
        assertEquals(3, FuzzyLemmas.distance("abcdef", "uvwxyz", 2)); // given up past the limit: limit + 1
    }
}
