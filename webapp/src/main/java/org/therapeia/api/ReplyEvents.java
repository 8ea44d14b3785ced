package org.therapeia.api;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.therapeia.metrics.ServiceMetrics;

/**
 * One streamed reply as server-sent events: {@code token} events ({@link TextPiece}) while the
 * model writes (and an empty comment line when a batch of tokens adds no text yet), then one
 * {@code done} event (the {@link InferenceResponse} of the plain endpoint) or one {@code error}
 * event (a {@link Problem}, e.g. the 504 of a generation over its time), then the end of the
 * stream.
 *
 * <p>A write that fails, or a sink found closed, means the client has gone: the generation is
 * cancelled, which frees its engine slot at the engine thread's next turn. A suspended plain
 * request cannot tell this (the container reports nothing until it writes the reply); a stream
 * writes as the tokens come and so finds out within a step or two of its first token (a client
 * that leaves while its request waits for a slot is noticed once it has been admitted).
 */
final class ReplyEvents {

    private static final CompletionStage<?> NOTHING_TO_WAIT_FOR = CompletableFuture.completedFuture(null);

    private final SseEventSink sink;
    private final Sse sse;
    private final Function<Throwable, Problem> problems;
    private final ServiceMetrics metrics;
    private final AtomicBoolean gone = new AtomicBoolean();
    private volatile Future<?> generation;

    /** @param problems maps a failure to its problem (as the application's exception mapper does) */
    ReplyEvents(SseEventSink sink, Sse sse, Function<Throwable, Problem> problems, ServiceMetrics metrics) {
        this.sink = sink;
        this.sse = sse;
        this.problems = problems;
        this.metrics = metrics;
    }

    /** The generation to cancel when the client goes; cancelled at once if it has gone already. */
    void cancelsOnDisconnect(Future<?> generation) {
        this.generation = generation;
        if (gone.get()) {
            generation.cancel(false);
        }
    }

    /** A token event, or for an empty piece an SSE comment (ignored by clients, but a write). */
    void text(String piece) {
        send(piece.isEmpty() ? sse.newEventBuilder().comment("").build()
                : event("token", TextPiece.class, new TextPiece(piece)));
    }

    /**
     * Sends the done or error event and ends the stream; a cancelled generation just ends it. The
     * stage returned completes once the stream is closed.
     */
    CompletionStage<?> finish(InferenceResponse reply, Throwable failure) {
        CompletionStage<?> last = NOTHING_TO_WAIT_FOR;
        try {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause != null && !(cause instanceof CancellationException)) {
                last = send(event("error", Problem.class, problems.apply(cause)));
            } else if (cause == null) {
                last = send(event("done", InferenceResponse.class, reply));
            }
        } catch (RuntimeException unsendable) {
            // thrown into a completion stage nobody would see it: the stream ends all the same
            last = NOTHING_TO_WAIT_FOR;
        }
        return last.whenComplete((ignored, e) -> sink.close());
    }

    private <T> OutboundSseEvent event(String name, Class<T> type, T data) {
        return sse.newEventBuilder().name(name).mediaType(MediaType.APPLICATION_JSON_TYPE).data(type, data).build();
    }

    private CompletionStage<?> send(OutboundSseEvent event) {
        if (gone.get()) {
            return NOTHING_TO_WAIT_FOR;
        }
        if (sink.isClosed()) {
            clientGone();
            return NOTHING_TO_WAIT_FOR;
        }
        CompletionStage<?> sent;
        try {
            sent = sink.send(event);
        } catch (IllegalStateException closedMeanwhile) {
            clientGone();
            return NOTHING_TO_WAIT_FOR;
        }
        return sent.whenComplete((ignored, failure) -> {
            if (failure != null) {
                clientGone();
            }
        });
    }

    private void clientGone() {
        if (gone.compareAndSet(false, true)) {
            metrics.abandoned();
            Future<?> g = generation;
            if (g != null) {
                g.cancel(false);
            }
        }
    }
}
