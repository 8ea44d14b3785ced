package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

/**
 * What the trained default model's replies are, whatever they say: text a person can read. The
 * checks fail for the byte soup of a broken decoder or of the random-weight model (replacement
 * characters, control bytes, pieces of UTF-8 sequences); none depends on the words of a reply.
 */
final class ReadableText {

    private static final int MIN_WORDS = 3;

    private ReadableText() {
    }

    /** A piece of a reply (one streamed event): whole characters, nothing unprintable. */
    static void assertWholeCharacters(String piece) {
        assertFalse(piece.contains("\uFFFD"),
                () -> "a replacement character (a broken UTF-8 sequence) in " + quote(piece));
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

    /** A whole reply: whole characters, and words (runs of letters) among its spaces and punctuation. */
    static void assertWords(String reply) {
        assertWholeCharacters(reply);
        long words = Arrays.stream(reply.split("[^\\p{L}']+"))
                .filter(w -> w.codePoints().anyMatch(Character::isLetter)).count();
        assertTrue(words >= MIN_WORDS, () -> "at least " + MIN_WORDS + " words: " + quote(reply));
    }

    private static String quote(String text) {
        return '"' + text.replace("\n", "\\n") + '"';
    }
}
