package org.therapeia.api.openai;

import jakarta.json.JsonObject;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.therapeia.api.ClientStream;
import org.therapeia.api.InferenceResponse;
import org.therapeia.api.ReplyStream;
import org.therapeia.metrics.ServiceMetrics;

/**
 * One streamed chat completion as OpenAI frames it: each event {@code data: <compact JSON>} and a
 * blank line, no event names; a first chunk with the assistant's role, content chunks, a last
 * choice chunk with an empty delta and the finish reason, with include_usage one more chunk with
 * no choices and the usage, then {@code data: [DONE]}. A failure after the stream began is one
 * {@code data: {"error": ...}} event, then {@code [DONE]}, as vLLM sends it.
 *
 * <p>Chunks are sent one at a time in order (the methods are synchronized: the role chunk is sent
 * from the request's thread, the pieces from the generation's). The client's end, and its leaving,
 * are {@link ClientStream}'s.
 */
final class ChatCompletionEvents implements ReplyStream {

    private final ClientStream client;
    private final Sse sse;
    private final ChatCompletionJson json;
    private final boolean includeUsage;
    private final Function<Throwable, JsonObject> errors;
    private boolean started;

    /** @param errors a failure to OpenAI's error body (as the exception mapper decides it) */
    ChatCompletionEvents(SseEventSink sink, Sse sse, ChatCompletionJson json, boolean includeUsage,
                         Function<Throwable, JsonObject> errors, ServiceMetrics metrics) {
        this.client = new ClientStream(sink, metrics);
        this.sse = sse;
        this.json = json;
        this.includeUsage = includeUsage;
        this.errors = errors;
    }

    @Override
    public void cancelsOnDisconnect(Future<?> generation) {
        client.cancelsOnDisconnect(generation);
    }

    /** The role chunk, unless sent already: the stream begins as soon as the request is taken. */
    @Override
    public synchronized void begun() {
        if (!started) {
            started = true;
            send(json.roleChunk().toString());
        }
    }

    /** A content chunk; an empty piece (tokens without text yet) sends nothing. */
    @Override
    public synchronized void text(String piece) {
        begun();
        if (!piece.isEmpty()) {
            send(json.contentChunk(piece).toString());
        }
    }

    /**
     * The finish (and usage) chunks or the error event, then [DONE], and the end of the stream; a
     * cancelled generation just ends it. The stage returned completes once the stream is closed.
     */
    @Override
    public synchronized CompletionStage<?> finish(InferenceResponse reply, Throwable failure) {
        CompletionStage<?> last = ClientStream.NOTHING_TO_WAIT_FOR;
        try {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof CancellationException) {
                return client.closeAfter(last);
            }
            begun();
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
            last = ClientStream.NOTHING_TO_WAIT_FOR;
        }
        return client.closeAfter(last);
    }

    private CompletionStage<?> send(String data) {
        return client.send(sse.newEvent(data));
    }
}
