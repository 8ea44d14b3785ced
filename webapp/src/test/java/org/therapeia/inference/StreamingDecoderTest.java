package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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

    /**
     * Each drain decodes the tokens new since the last text (with those of that text as context),
     * not the whole reply: a long reply costs a small multiple of its length in decoded tokens,
     * where decoding the whole reply at every token costs the square of it.
     */
    @Test
    void eachDrainDecodesOnlyTheNewTokens() {
        AtomicLong decodedIds = new AtomicLong();
        StreamingDecoder counted = new StreamingDecoder(ids -> {
            decodedIds.addAndGet(ids.length);
            return DECODE.apply(ids);
        }, sent::add, Runnable::run);
        int[] cycle = {1, 2, 3, 6, 90, 91, 7, 5};
        int n = 4000;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = cycle[i % cycle.length];
            counted.onToken(ids[i]);
        }
        assertTrue(decodedIds.get() <= 4L * n, "decoded " + decodedIds.get() + " ids for a reply of " + n);
        String reply = DECODE.apply(ids).strip();
        counted.finish(reply);
        assertEquals(reply, String.join("", sent), "the pieces still make the reply");
    }

    /**
     * With a piece interval the engine thread schedules a drain for the first token at once, then
     * none until the interval has passed: the tokens in between reach the client in one piece with
     * the first token after it, or with the finish.
     */
    @Test
    void withAPieceIntervalTokensWithinItTravelInOnePiece() {
        AtomicLong now = new AtomicLong();
        AtomicInteger drains = new AtomicInteger();
        StreamingDecoder paced = new StreamingDecoder(DECODE, sent::add, task -> {
            drains.incrementAndGet();
            task.run();
        }, StopStrings.NONE, now::get, TimeUnit.MILLISECONDS.toNanos(50));
        paced.onToken(1);
        assertEquals(List.of("Hello"), sent, "the first token at once");
        now.set(TimeUnit.MILLISECONDS.toNanos(20));
        paced.onToken(2);
        paced.onToken(3);
        assertEquals(1, drains.get(), "no drain within the interval");
        now.set(TimeUnit.MILLISECONDS.toNanos(50));
        paced.onToken(6);
        assertEquals(2, drains.get());
        assertEquals(List.of("Hello", ", worldcaf"), sent, "what came within the interval, in one piece");
        now.set(TimeUnit.MILLISECONDS.toNanos(60));
        paced.onToken(7);
        paced.finish("Hello, worldcaf.");
        assertEquals(List.of("Hello", ", worldcaf", "."), sent, "the finish sends what waited");
        assertEquals(2, drains.get());
    }

    /**
     * A decoder whose clean-up rule reaches across tokens (" ." becomes "."): the increments stop
     * adding up, no piece follows, and the finish sends the rest of the final reply, which still
     * extends what was sent.
     */
    @Test
    void whenIncrementsStopAddingUpTheFinishSendsTheRest() {
        Function<int[], String> cleaning = ids -> DECODE.apply(ids).replace(" .", ".");
        StreamingDecoder d = new StreamingDecoder(cleaning, sent::add, Runnable::run);
        d.onToken(1);
        d.onToken(4);
        d.onToken(7); // the context " " and "." decode to ".": not an extension of " "
        d.onToken(3);
        assertEquals(List.of("Hello", "", "", ""), sent);
        d.finish(cleaning.apply(new int[] {1, 4, 7, 3}).strip());
        assertEquals("Hello. world", String.join("", sent));
    }
}
