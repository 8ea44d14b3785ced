package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StreamedReplyTest {

    @Test
    void readsTheFirstPieceAndTheDoneEvent() {
        long start = System.nanoTime();
        StreamedReply r = StreamedReply.read(List.of(":", "", "event: token", "data: {\"text\":\"Hello\"}", "",
                "event: token", "data: {\"text\":\" there\"}", "", "event: done",
                "data: {\"response\":\"Hello there\",\"cache_hit\":false}", "").iterator(), start);
        assertEquals("{\"response\":\"Hello there\",\"cache_hit\":false}", r.done());
        assertNull(r.error());
        assertTrue(r.firstPieceNanos() > 0 && r.firstPieceNanos() <= System.nanoTime() - start);
    }

    @Test
    void anErrorEventGivesItsStatus() {
        StreamedReply r = StreamedReply.read(List.of("event: token", "data: {\"text\":\"Hi\"}", "", "event: error",
                "data: {\"type\":\"urn:therapeia:problem:timeout\",\"status\":504}", "").iterator(), System.nanoTime());
        assertNull(r.done());
        assertEquals("504", r.error());
    }

    @Test
    void aStreamThatEndsEarlyHasNeither() {
        StreamedReply r = StreamedReply.read(List.of("event: done", "data: {\"response\":").iterator(),
                System.nanoTime());
        assertNull(r.done(), "an event without its closing blank line never happened");
        assertEquals(0, r.firstPieceNanos());
    }

    @Test
    void eventsFollowTheServerSentEventRules() {
        List<String> heard = new java.util.ArrayList<>();
        ServerSentEvents.read(List.of(": a comment", "", "event: token", "data:no space", "data:  two", "",
                "data: [DONE]", "", "data: cut off").iterator(), (name, data) -> heard.add(name + "=" + data));
        assertEquals(List.of("token=no space\n two", "message=[DONE]"), heard,
                "a comment alone is no event; data lines join; one space after the colon is dropped");
    }
}
