package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Stop strings in a stream: held back while they may still form, cut where they do, never sent in part. */
class StopStringStreamingTest {

    /** A toy tokenizer whose pieces split the stop strings "User:" and "\n\n" across tokens. */
    private static final Map<Integer, String> PIECES = Map.of(1, "I hear", 2, " you", 3, ".\n", 4, "\nUs", 5, "er",
            6, ":", 7, " Use", 8, "ful", 9, " U");

    private static final Function<int[], String> DECODE = ids -> {
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            text.append(PIECES.get(id));
        }
        return text.toString();
    };

    private final List<String> sent = new ArrayList<>();

    private StreamingDecoder decoder(String... stops) {
        return new StreamingDecoder(DECODE, sent::add, Runnable::run, new StopStrings(List.of(stops)), System::nanoTime, 0);
    }

    private String sentSoFar() {
        return String.join("", sent);
    }

    @Test
    void aStopStringSplitAcrossTokensIsNeverSentInPart() {
        StreamingDecoder d = decoder("User:");
        for (int id : new int[] {1, 2, 9}) {
            d.onToken(id);
        }
        assertEquals("I hear you", sentSoFar(), "\" U\" may become \" User:\": held back");
        d.onToken(5);
        assertEquals("I hear you Uer", sentSoFar(), "\" Uer\" cannot become it: sent");
        d.onToken(6);
        assertFalse(d.stopRequested(), "\" Uer:\" is not the stop string");
        assertEquals("I hear you Uer:", sentSoFar());
    }

    @Test
    void theReplyEndsBeforeTheStopStringAndTheSchedulerIsAskedToStop() {
        StreamingDecoder d = decoder("User:", "\n\n");
        int[] ids = {1, 2, 3, 4, 5, 6, 2};
        for (int id : ids) {
            d.onToken(id);
            for (String piece : sent) {
                assertFalse(piece.contains("\n"), "no piece of a stop string is sent");
            }
        }
        assertTrue(d.stopRequested());
        assertEquals(4, d.tokensAtStop(), "\"\\n\\n\" completes with the fourth token");
        assertEquals("I hear you.", sentSoFar());
        d.finish("I hear you.");
        assertEquals("I hear you.", sentSoFar());
    }

    @Test
    void theEarliestStopStringWins() {
        StreamingDecoder d = decoder("ful", "you");
        for (int id : new int[] {1, 7, 8, 2}) {
            d.onToken(id);
        }
        assertEquals(3, d.tokensAtStop());
        assertEquals("I hear Use", sentSoFar());
    }

    @Test
    void holdBackIsTheLongestSuffixThatStartsAStopString() {
        StopStrings stops = new StopStrings(List.of("User:", "\n\n", "abcab"));
        assertEquals(0, stops.holdBack("hello"));
        assertEquals(1, stops.holdBack("hello\n"));
        assertEquals(3, stops.holdBack("hi Use"));
        assertEquals(4, stops.holdBack("xabca"), "abca is a proper prefix of abcab");
        assertEquals(0, stops.holdBack(""));
        assertEquals(2, stops.firstMatch("hi\n\nUser:"));
        assertEquals(-1, stops.firstMatch("hi\nUser"));
    }

    @Test
    void tokensToStopFindsTheFewestTokensThatHoldTheStopString() {
        StopStrings stops = new StopStrings(List.of("\n\n"));
        int[] ids = {1, 2, 3, 4, 5, 6, 2};
        Function<int[], String> decode = DECODE;
        int[] kept = InferenceService.tokensToStop(ids, 6, stops, decode);
        assertEquals(4, kept.length);
        assertEquals(4, InferenceService.tokensToStop(ids, -1, stops, decode).length);
    }
}
