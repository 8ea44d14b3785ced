package org.therapeia.api;

import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.therapeia.metrics.ServiceMetrics;

/**
 * The client's end of a streamed reply, whichever API frames it ({@link ReplyEvents},
 * {@code ChatCompletionEvents}): sends events, and notices when the client has gone. A write that
 * fails, or a sink found closed, means the client has gone: the generation is cancelled, which
 * frees its engine slot at the engine thread's next turn (counted in
 * {@code therapeia_requests_abandoned_total}). A suspended plain request cannot tell this (the
 * container reports nothing until it writes the reply); a stream writes as the tokens come and so
 * finds out within a step or two of its first token.
 */
public final class ClientStream {

    /** A send that was not made, or the end of a stream with nothing left to wait for. */
    public static final CompletionStage<?> NOTHING_TO_WAIT_FOR = CompletableFuture.completedFuture(null);

    private final SseEventSink sink;
    private final ServiceMetrics metrics;
    private final AtomicBoolean gone = new AtomicBoolean();
    private volatile Future<?> generation;

    public ClientStream(SseEventSink sink, ServiceMetrics metrics) {
        this.sink = sink;
        this.metrics = metrics;
    }

    /** The generation to cancel when the client goes; cancelled at once if it has gone already. */
    public void cancelsOnDisconnect(Future<?> generation) {
        this.generation = generation;
        if (gone.get()) {
            generation.cancel(false);
        }
    }

    /** Sends {@code event}, unless the client has gone; the stage completes once it is written. */
    public CompletionStage<?> send(OutboundSseEvent event) {
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

    /** Ends the stream once {@code last} is written; the stage returned completes when it is closed. */
    public CompletionStage<?> closeAfter(CompletionStage<?> last) {
        return last.whenComplete((ignored, e) -> sink.close());
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
