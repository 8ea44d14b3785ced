package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.ws.rs.core.GenericType;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseBroadcaster;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.therapeia.metrics.ServiceMetrics;

/** The event sequence of a streamed reply, and what a departed client does to its generation. */
class ReplyEventsTest {

    /** An event as the fake builder built it: its name (null for a comment), comment and data. */
    record Event(String name, String comment, Object data) implements OutboundSseEvent {
        @Override
        public Class<?> getType() {
            return data == null ? null : data.getClass();
        }

        @Override
        public Type getGenericType() {
            return getType();
        }

        @Override
        public MediaType getMediaType() {
            return MediaType.APPLICATION_JSON_TYPE;
        }

        @Override
        public Object getData() {
            return data;
        }

        @Override
        public String getId() {
            return null;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public String getComment() {
            return comment;
        }

        @Override
        public long getReconnectDelay() {
            return RECONNECT_NOT_SET;
        }

        @Override
        public boolean isReconnectDelaySet() {
            return false;
        }
    }

    static final class Builder implements OutboundSseEvent.Builder {
        private String name;
        private String comment;
        private Object data;

        @Override
        public OutboundSseEvent.Builder id(String id) {
            return this;
        }

        @Override
        public OutboundSseEvent.Builder name(String name) {
            this.name = name;
            return this;
        }

        @Override
        public OutboundSseEvent.Builder reconnectDelay(long milliseconds) {
            return this;
        }

        @Override
        public OutboundSseEvent.Builder mediaType(MediaType mediaType) {
            return this;
        }

        @Override
        public OutboundSseEvent.Builder comment(String comment) {
            this.comment = comment;
            return this;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public OutboundSseEvent.Builder data(Class type, Object data) {
            this.data = data;
            return this;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public OutboundSseEvent.Builder data(GenericType type, Object data) {
            this.data = data;
            return this;
        }

        @Override
        public OutboundSseEvent.Builder data(Object data) {
            this.data = data;
            return this;
        }

        @Override
        public OutboundSseEvent build() {
            return new Event(name, comment, data);
        }
    }

    static final class FakeSse implements Sse {
        @Override
        public OutboundSseEvent.Builder newEventBuilder() {
            return new Builder();
        }

        @Override
        public SseBroadcaster newBroadcaster() {
            throw new UnsupportedOperationException();
        }
    }

    /** Records what is sent; from {@code failFrom} on, a send fails as a write to a departed client does. */
    static final class Sink implements SseEventSink {
        final List<Event> sent = new ArrayList<>();
        int failFrom = Integer.MAX_VALUE;
        boolean throwOnSend;
        boolean closed;
        int attempts;

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public CompletionStage<?> send(OutboundSseEvent event) {
            if (throwOnSend) {
                throw new IllegalStateException("closed");
            }
            if (attempts++ >= failFrom) {
                return CompletableFuture.failedFuture(new IOException("Broken pipe"));
            }
            sent.add((Event) event);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static final class CountingMetrics extends ServiceMetrics {
        final AtomicInteger abandoned = new AtomicInteger();

        @Override
        public void abandoned() {
            abandoned.incrementAndGet();
        }
    }

    private final Sink sink = new Sink();
    private final CountingMetrics metrics = new CountingMetrics();
    private final ReplyEvents events = new ReplyEvents(sink, new FakeSse(),
            failure -> Problem.of("timeout", "Generation timed out", 504, failure.getClass().getSimpleName(), null),
            metrics);
    private final CompletableFuture<InferenceResponse> generation = new CompletableFuture<>();

    private static final InferenceResponse REPLY = new InferenceResponse("Hi there", 0.5, false, 3,
            new InferenceMetadata(0.4, 20, 0.1, 0.0, 0, "stop", "m"));

    @Test
    void piecesThenDoneThenTheEnd() {
        events.cancelsOnDisconnect(generation);
        events.text("Hi");
        events.text("");
        events.text(" there");
        events.finish(REPLY, null);
        assertEquals(List.of(new Event("token", null, "{\"text\":\"Hi\"}"), new Event(null, "", null),
                new Event("token", null, "{\"text\":\" there\"}"), new Event("done", null, REPLY)), sink.sent);
        assertTrue(sink.closed);
        assertEquals(0, metrics.abandoned.get());
    }

    @Test
    void aFailedGenerationEndsWithItsProblem() {
        events.cancelsOnDisconnect(generation);
        events.text("Hi");
        events.finish(null, new CompletionException(new IllegalStateException("late")));
        Event last = sink.sent.get(sink.sent.size() - 1);
        assertEquals("error", last.name());
        assertEquals(504, ((Problem) last.data()).status());
        assertEquals("IllegalStateException", ((Problem) last.data()).detail(), "the cause, not its wrapper");
        assertTrue(sink.closed);
    }

    @Test
    void aFailedWriteCancelsTheGenerationOnceAndSendsNothingMore() {
        events.cancelsOnDisconnect(generation);
        sink.failFrom = 1;
        events.text("Hi");
        events.text(" there"); // the client has gone
        events.text(" again");
        assertTrue(generation.isCancelled());
        assertEquals(1, metrics.abandoned.get());
        assertEquals(2, sink.attempts, "nothing is written after the failed write");
        events.finish(null, new CancellationException());
        assertEquals(1, sink.sent.size());
        assertTrue(sink.closed);
    }

    @Test
    void aClientGoneBeforeTheGenerationIsKnownStillCancelsIt() {
        sink.closed = true;
        events.text("Hi");
        events.cancelsOnDisconnect(generation);
        assertTrue(generation.isCancelled());
        assertEquals(1, metrics.abandoned.get());
    }

    @Test
    void aSinkClosedWhileSendingCountsAsAClientGone() {
        events.cancelsOnDisconnect(generation);
        sink.throwOnSend = true;
        events.text("Hi");
        assertTrue(generation.isCancelled());
        events.finish(REPLY, null);
        assertTrue(sink.closed);
        assertTrue(sink.sent.isEmpty(), "nothing could be written");
    }
}
