package org.therapeia.inference;

import java.util.Arrays;
import java.util.function.Function;

/**
 * The text of a growing sequence of tokens, decoded a few tokens at a time: each {@link #next()}
 * decodes only the tokens whose text it has not returned yet, with those of the text it returned
 * last as context, so a reply of n tokens costs a small multiple of n tokens of decoding in all
 * (about 3n when each call brings one token) instead of the n²/2 of decoding the whole reply each
 * time.
 *
 * <p>The context is there because a token's text can depend on the tokens before it: a character
 * whose UTF-8 bytes span tokens (byte-level BPE), or a leading space that a decoder strips only at
 * the start of what it decodes (SentencePiece's ▁). Decoding the context alone and the context with
 * the new tokens, and keeping what the second adds to the first, gives the text a decode of the
 * whole would (the method of Hugging Face's {@code TextStreamer} and text-generation-inference).
 * New text that ends in U+FFFD (a character whose bytes have not all arrived; with SentencePiece's
 * byte fallback the whole run of byte tokens reads as U+FFFDs until then) is held back until the
 * character is complete.
 *
 * <p>Should a decode with the context not begin with the context's own text (a decoder's clean-up
 * rule across the boundary), the increments can no longer be trusted to add up to the whole
 * decode: from then on nothing more is returned ({@link #consistent()} turns false), and the
 * caller relies on the final decode. Not thread-safe.
 */
final class IncrementalDecoder {

    private static final char INCOMPLETE = '\uFFFD';

    private final Function<int[], String> decode;
    private int[] tokens = new int[64];
    private int count;
    /** Tokens [contextStart, newStart) made the text returned last; [newStart, count) have no text returned yet. */
    private int contextStart;
    private int newStart;
    private String contextText = "";
    private boolean consistent = true;

    /** @param decode token ids to text (the model's tokenizer, special tokens skipped) */
    IncrementalDecoder(Function<int[], String> decode) {
        this.decode = decode;
    }

    void add(int token) {
        if (count == tokens.length) {
            tokens = Arrays.copyOf(tokens, count * 2);
        }
        tokens[count++] = token;
    }

    /** Tokens added so far. */
    int tokenCount() {
        return count;
    }

    /** False once the increments stopped adding up to the whole decode: nothing more is returned. */
    boolean consistent() {
        return consistent;
    }

    /**
     * The text the tokens added since the last text returned complete: empty when they add none
     * yet (special tokens, an unfinished character), or once the decoding is not
     * {@link #consistent()}.
     */
    String next() {
        if (count == newStart || !consistent) {
            return "";
        }
        String window = decode.apply(Arrays.copyOfRange(tokens, contextStart, count));
        // first: byte fallback turns a whole run of byte tokens into U+FFFDs while its last character is unfinished
        if (window.isEmpty() || window.charAt(window.length() - 1) == INCOMPLETE) {
            return "";
        }
        if (!window.startsWith(contextText)) {
            consistent = false;
            return "";
        }
        if (window.length() == contextText.length()) {
            return "";
        }
        String added = window.substring(contextText.length());
        // the tokens just decoded become the next context; they start at a character boundary
        contextStart = newStart;
        newStart = count;
        contextText = decode.apply(Arrays.copyOfRange(tokens, contextStart, newStart));
        return added;
    }
}
