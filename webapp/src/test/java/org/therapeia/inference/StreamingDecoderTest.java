package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

    /**
     * A toy tokenizer: each id is a piece of text, except 90 and 91, the two halves of "é" (a
     * character whose bytes span two tokens, as in byte-level BPE: alone, 90 decodes to U+FFFD).
     */
    private static final Map<Integer, String> PIECES = Map.of(1, " Hello", 2, ",", 3, " world", 4, " ", 5, "\n",
            6, "caf", 7, ".");

    private static final Function<int[], String> DECODE = ids -> {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == 90) {
                boolean complete = i + 1 < ids.length && ids[i + 1] == 91;
                text.append(complete ? "é" : "\uFFFD");
                i += complete ? 1 : 0;
            } else {
                text.append(PIECES.get(ids[i]));
            }
        }
        return text.toString();
    };

    private final List<String> sent = new ArrayList<>();
    private final StreamingDecoder decoder = new StreamingDecoder(DECODE, sent::add, Runnable::run);

    private String feed(int... ids) {
        for (int id : ids) {
            decoder.onToken(id);
        }
        return String.join("|", sent.stream().filter(p -> !p.isEmpty()).toList());
    }

    @Test
    void piecesConcatenateToTheStrippedReply() {
        int[] ids = {4, 1, 2, 3, 6, 90, 91, 7, 5};
        feed(ids);
        String reply = DECODE.apply(ids).strip();
        decoder.finish(reply);
        assertEquals(reply, String.join("", sent));
        assertEquals("Hello|,| world|caf|é|.", feed());
        assertEquals(List.of("", "Hello", ",", " world", "caf", "", "é", ".", ""), sent, "one piece per token");
    }

    @Test
    void whitespaceAndHalfCharactersAreHeldBack() {
        assertEquals("", feed(4, 5));              // only whitespace so far
        assertEquals("Hello", feed(1, 4));         // the trailing space may end the reply
        assertEquals("Hello", feed(90));           // half of é
        assertEquals("Hello| é", feed(91));
    }

    @Test
    void finishSendsTheRestAndLaterDrainsSendNothing() {
        feed(1, 3);
        decoder.finish("Hello world!");
        decoder.onToken(2);
        assertEquals(List.of("Hello", " world", "!"), sent, "nothing after the finish");
    }

    @Test
    void aDecodeThatRewritesSentTextStopsThePieces() {
        feed(1, 2); // "Hello,"
        decoder.finish("Hello ,"); // not an extension of what was sent: the done event must carry it
        assertEquals(List.of("Hello", ","), sent);
        decoder.onToken(3);
        assertEquals(List.of("Hello", ","), sent);
    }

    @Test
    void stablePrefix() {
        assertEquals("", StreamingDecoder.stablePrefix(" \n "));
        assertEquals("a b", StreamingDecoder.stablePrefix("  a b \uFFFD"));
        assertEquals("a", StreamingDecoder.stablePrefix("a\uFFFD \uFFFD"));
    }

    /** While the request waits for a slot each notice is an empty piece (a write: is the client there?); none after. */
    @Test
    void aWaitingRequestWritesAnEmptyPieceUntilItsFirstToken() {
        decoder.onWaiting();
        decoder.onWaiting();
        assertEquals(List.of("", ""), sent);
        feed(1);
        decoder.onWaiting(); // a late notice, the first token already there: nothing
        decoder.finish(" Hello".strip());
        decoder.onWaiting();
        assertEquals(List.of("", "", "Hello"), sent);
    }
}
