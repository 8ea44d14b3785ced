package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.therapeia.Fixtures;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The incremental decode against the whole decode, through real tokenizers: byte-level BPE (whose
 * multi-byte characters span tokens), SentencePiece-style BPE and Unigram (whose decoders strip
 * the leading space of what they decode).
 */
class IncrementalDecoderTest {

    /** Accents, CJK, an emoji (4 UTF-8 bytes, 2 UTF-16 chars), a dash, and leading and inner spaces. */
    private static final String TEXT = "  Café naïve — 日本語 😀 ok.\n Ünïcödé, übung!  Fin";

    private static Tokenizer load(String file) {
        return Tokenizer.load(Fixtures.tokenizerCases().resolve(file));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_bpe_bytelevel_tokenizer.json", "tiny_bpe_split_qwen35_tokenizer.json",
            "tiny_bpe_metaspace_tokenizer.json", "tiny_unigram_tokenizer.json"})
    void tokenByTokenTheIncrementsMakeTheWholeDecodeAndCharactersStayWhole(String file) {
        try (Tokenizer tokenizer = load(file)) {
            int[] ids = tokenizer.encode(TEXT);
            IncrementalDecoder decoder = new IncrementalDecoder(tokenizer::decode);
            StringBuilder text = new StringBuilder();
            for (int id : ids) {
                decoder.add(id);
                String added = decoder.next();
                assertWhole(added);
                text.append(added);
            }
            assertTrue(decoder.consistent());
            assertEquals(tokenizer.decode(ids), text.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_bpe_bytelevel_tokenizer.json", "tiny_bpe_metaspace_tokenizer.json"})
    void severalTokensAtATimeGiveTheSameText(String file) {
        try (Tokenizer tokenizer = load(file)) {
            int[] ids = tokenizer.encode(TEXT);
            IncrementalDecoder decoder = new IncrementalDecoder(tokenizer::decode);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < ids.length; i++) {
                decoder.add(ids[i]);
                if (i % 3 == 2 || i == ids.length - 1) {
                    text.append(decoder.next());
                }
            }
            assertEquals(tokenizer.decode(ids), text.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_bpe_bytelevel_tokenizer.json"})
    void aCharacterWhoseBytesSpanTokensComesWhenItIsComplete(String file) {
        try (Tokenizer tokenizer = load(file)) {
            int[] ids = tokenizer.encode("😀");
            assertTrue(ids.length > 1, "the emoji spans tokens in this vocabulary: " + ids.length);
            IncrementalDecoder decoder = new IncrementalDecoder(tokenizer::decode);
            for (int i = 0; i < ids.length - 1; i++) {
                decoder.add(ids[i]);
                assertEquals("", decoder.next(), "nothing before its last byte");
            }
            decoder.add(ids[ids.length - 1]);
            assertEquals("😀", decoder.next());
        }
    }

    /** No replacement character and no half of a surrogate pair. */
    private static void assertWhole(String piece) {
        assertFalse(piece.indexOf('\uFFFD') >= 0, "a replacement character in " + piece);
        if (!piece.isEmpty()) {
            assertFalse(Character.isLowSurrogate(piece.charAt(0)), "begins with the second half of a pair: " + piece);
            assertFalse(Character.isHighSurrogate(piece.charAt(piece.length() - 1)),
                    "ends with the first half of a pair: " + piece);
        }
    }
}
