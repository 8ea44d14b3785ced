package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

/**
 * What the trained default model's replies are, whatever their words: text a person can read.
 * Every check holds for any reply of that model and fails for the byte soup of a broken decoder or
 * of the random-weight model (replacement characters, control bytes, pieces of UTF-8 sequences);
 * none depends on what the reply says.
 */
final class ReadableText {

    private static final int MIN_WORDS = 3;

    private ReadableText() {
    }

    /** A piece of a reply (one streamed event): whole characters, nothing unprintable. */
    static void assertWholeCharacters(String piece) {
        assertFalse(piece.contains("\uFFFD"), () -> "a replacement character: a broken UTF-8 sequence in " + quote(piece));
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertTrue(i + 1 < piece.length() && Character.isLowSurrogate(piece.charAt(i + 1)),
                        () -> "half a surrogate pair in " + quote(piece));
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), () -> "half a surrogate pair in " + quote(piece));
                assertFalse(Character.isISOControl(c) && c != '\n', () -> "a control character in " + quote(piece));
            }
        }
    }

    /** A whole reply: whole characters, made of words (each with a letter or a digit), a few of them. */
    static void assertWords(String reply) {
        assertWholeCharacters(reply);
        List<String> words = Arrays.stream(reply.strip().split("\\s+")).filter(w -> !w.isEmpty()).toList();
        assertTrue(words.size() >= MIN_WORDS, () -> "at least " + MIN_WORDS + " words: " + quote(reply));
        for (String word : words) {
            assertTrue(word.codePoints().anyMatch(Character::isLetterOrDigit), () -> "not a word: " + quote(word)
                    + " in " + quote(reply));
        }
    }

    private static String quote(String text) {
        return '"' + text.replace("\n", "\\n") + '"';
    }
}
