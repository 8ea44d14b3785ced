package org.therapeia.api.openai;

import jakarta.json.JsonObject;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.therapeia.api.InferenceResponse;
import org.therapeia.metrics.ServiceMetrics;

/**
 * One streamed chat completion as OpenAI frames it: each event {@code data: <compact JSON>} and a
 * blank line, no event names; a first chunk with the assistant's role, content chunks, a last
 * choice chunk with an empty delta and the finish reason, with include_usage one more chunk with
 * no choices and the usage, then {@code data: [DONE]}. A failure after the stream began is one
 * {@code data: {"error": ...}} event, then {@code [DONE]}.
 *
 * <p>Chunks are sent one at a time in order (the methods are synchronized). A write that fails,
 * or a sink found closed, means the client has gone: the generation is cancelled, which frees its
 * engine slot at the engine thread's next turn.
 */
final class ChatCompletionEvents {

    private static final CompletionStage<?> NOTHING_TO_WAIT_FOR = CompletableFuture.completedFuture(null);

    private final SseEventSink sink;
    private final Sse sse;
    private final ChatCompletionJson json;
    private final boolean includeUsage;
    private final Function<Throwable, JsonObject> errors;
    private final ServiceMetrics metrics;
    private boolean started;
    private boolean gone;
    private Future<?> generation;

    /** @param errors a failure to OpenAI's error body (as the exception mapper decides it) */
    ChatCompletionEvents(SseEventSink sink, Sse sse, ChatCompletionJson json, boolean includeUsage,
                         Function<Throwable, JsonObject> errors, ServiceMetrics metrics) {
        this.sink = sink;
        this.sse = sse;
        this.json = json;
        this.includeUsage = includeUsage;
        this.errors = errors;
        this.metrics = metrics;
    }

    /** The generation to cancel when the client goes; cancelled at once if it has gone already. */
    synchronized void cancelsOnDisconnect(Future<?> generation) {
        this.generation = generation;
        if (gone) {
            generation.cancel(false);
        }
    }

    /** The role chunk, unless sent already. */
    synchronized void start() {
        if (!started) {
            started = true;
            send(json.roleChunk().toString());
        }
    }

    /** A content chunk; an empty piece (tokens without text yet) sends nothing. */
    synchronized void text(String piece) {
        start();
        if (!piece.isEmpty()) {
            send(json.contentChunk(piece).toString());
        }
    }

    /**
     * The finish (and usage) chunks or the error event, then [DONE], and the end of the stream; a
     * cancelled generation just ends it. The stage returned completes once the stream is closed.
     */
    synchronized CompletionStage<?> finish(InferenceResponse reply, Throwable failure) {
        CompletionStage<?> last = NOTHING_TO_WAIT_FOR;
        try {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof CancellationException) {
                return last.whenComplete((ignored, e) -> sink.close());
            }
            start();
            if (cause != null) {
                send(errors.apply(cause).toString());
            } else {
                send(json.finishChunk(reply).toString());
                if (includeUsage) {
                    send(json.usageChunk(reply).toString());
                }
            }
            last = send(ChatCompletionJson.DONE);
        } catch (RuntimeException unsendable) {
            // thrown into a completion stage nobody would see it: the stream ends all the same
            last = NOTHING_TO_WAIT_FOR;
        }
        return last.whenComplete((ignored, e) -> sink.close());
    }

    private CompletionStage<?> send(String data) {
        if (gone) {
            return NOTHING_TO_WAIT_FOR;
        }
        if (sink.isClosed()) {
            clientGone();
            return NOTHING_TO_WAIT_FOR;
        }
        CompletionStage<?> sent;
        try {
            sent = sink.send(sse.newEvent(data));
        } catch (IllegalStateException closedMeanwhile) {
            clientGone();
            return NOTHING_TO_WAIT_FOR;
        }
        return sent.whenComplete((ignored, failure) -> {
            if (failure != null) {
                synchronized (this) {
                    clientGone();
                }
            }
        });
    }

    private void clientGone() {
        if (!gone) {
            gone = true;
            metrics.abandoned();
            if (generation != null) {
                generation.cancel(false);
            }
        }
    }
}
