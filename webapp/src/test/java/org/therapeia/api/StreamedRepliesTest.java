package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.therapeia.inference.GenerationTimeoutException;
import org.therapeia.inference.InferenceService;

/** The stream plumbing both streaming endpoints share, driving a stream that records what it was told. */
class StreamedRepliesTest {

    private static final InferenceResponse REPLY = new InferenceResponse("Hi", 0.1, false, 1,
            new InferenceMetadata(0.1, 3, 0.01, 0.0, 0, "stop", "m"));

    private final RepliesInFlight inFlight = new RepliesInFlight();
    private Duration deadline = Duration.ofMinutes(10);
    private final StreamedReplies streams = new StreamedReplies(inFlight, new InferenceService() {
        @Override
        public Duration replyDeadline() {
            return deadline;
        }
    });

    /** What the plumbing told the stream, in order; its close completes when {@link #closed} does. */
    private static final class RecordingStream implements ReplyStream {
        final List<String> heard = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        volatile Throwable failure;

        @Override
        public void begun() {
            heard.add("begun");
        }

        @Override
        public void text(String piece) {
            heard.add("text " + piece);
        }

        @Override
        public CompletionStage<?> finish(InferenceResponse reply, Throwable failure) {
            this.failure = failure;
            heard.add(failure == null ? "finish " + reply.response() : "failed");
            return closed;
        }

        @Override
        public void cancelsOnDisconnect(Future<?> generation) {
            heard.add("cancels on disconnect");
        }
    }

    @Test
    void aStreamBeginsFinishesAndIsCountedUntilClosed() throws Exception {
        RecordingStream stream = new RecordingStream();
        CompletableFuture<InferenceResponse> reply = new CompletableFuture<>();
        streams.answer(() -> new StreamedReplies.Started(stream, reply));
        assertEquals(List.of("begun", "cancels on disconnect"), stream.heard);
        stream.text("Hi");
        reply.complete(REPLY);
        assertEquals(List.of("begun", "cancels on disconnect", "text Hi", "finish Hi"), stream.heard);
        assertFalse(inFlight.awaitNone(Duration.ZERO), "counted until the stream is closed");
        stream.closed.complete(null);
        assertTrue(inFlight.awaitNone(Duration.ZERO));
    }

    @Test
    void aRefusalIsThrownOnAndNotCounted() throws Exception {
        InvalidRequestException refusal = new InvalidRequestException("n", "one choice");
        assertSame(refusal, assertThrows(InvalidRequestException.class, () -> streams.answer(() -> {
            throw refusal;
        })), "for the exception mapper: an error response, not a stream");
        assertTrue(inFlight.awaitNone(Duration.ZERO));
    }

    @Test
    void aReplyStillMissingAtTheDeadlineFailsWithA504() throws Exception {
        deadline = Duration.ofMillis(1);
        RecordingStream stream = new RecordingStream();
        CompletableFuture<InferenceResponse> reply = new CompletableFuture<>();
        streams.answer(() -> new StreamedReplies.Started(stream, reply));
        stream.closed.complete(null);
        assertTrue(inFlight.awaitNone(Duration.ofMinutes(1)), "the deadline ends the stream");
        CompletionException failed = assertThrows(CompletionException.class, reply::join);
        assertInstanceOf(GenerationTimeoutException.class, failed.getCause());
        assertInstanceOf(GenerationTimeoutException.class, stream.failure, "the stream heard why");
        assertTrue(reply.isCompletedExceptionally());
        assertFalse(reply.isCancelled());
        assertEquals(1, stream.heard.stream().filter(h -> h.equals("failed")).count());
        reply.complete(REPLY); // too late: the reply has ended
        assertEquals(1, stream.heard.stream().filter(h -> h.startsWith("f")).count());
    }
}
