package org.therapeia.api;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.therapeia.metrics.ServiceMetrics;

/**
 * One streamed reply of the seed's API as server-sent events: {@code token} events
 * ({@link TextPiece}) while the model writes (and an empty comment line when a batch of tokens adds
 * no text yet), then one {@code done} event (the {@link InferenceResponse} of the plain endpoint)
 * or one {@code error} event (a {@link Problem}, e.g. the 504 of a generation over its time), then
 * the end of the stream. The client's end, and its leaving, are {@link ClientStream}'s.
 */
final class ReplyEvents implements ReplyStream {

    private final ClientStream client;
    private final Sse sse;
    private final Function<Throwable, Problem> problems;

    /** @param problems maps a failure to its problem (as the application's exception mapper does) */
    ReplyEvents(SseEventSink sink, Sse sse, Function<Throwable, Problem> problems, ServiceMetrics metrics) {
        this.client = new ClientStream(sink, metrics);
        this.sse = sse;
        this.problems = problems;
    }

    @Override
    public void cancelsOnDisconnect(Future<?> generation) {
        client.cancelsOnDisconnect(generation);
    }

    /** A token event, or for an empty piece an SSE comment (ignored by clients, but a write). */
    @Override
    public void text(String piece) {
        // the data as a ready string (text/plain: written as it is; SSE carries no media type)
        client.send(piece.isEmpty() ? sse.newEventBuilder().comment("").build()
                : sse.newEventBuilder().name("token").data(String.class, new TextPiece(piece).json()).build());
    }

    /**
     * Sends the done or error event and ends the stream; a cancelled generation just ends it. The
     * stage returned completes once the stream is closed.
     */
    @Override
    public CompletionStage<?> finish(InferenceResponse reply, Throwable failure) {
        CompletionStage<?> last = ClientStream.NOTHING_TO_WAIT_FOR;
        try {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause != null && !(cause instanceof CancellationException)) {
                last = client.send(event("error", Problem.class, problems.apply(cause)));
            } else if (cause == null) {
                last = client.send(event("done", InferenceResponse.class, reply));
            }
        } catch (RuntimeException unsendable) {
            // thrown into a completion stage nobody would see it: the stream ends all the same
            last = ClientStream.NOTHING_TO_WAIT_FOR;
        }
        return client.closeAfter(last);
    }

    private <T> OutboundSseEvent event(String name, Class<T> type, T data) {
        return sse.newEventBuilder().name(name).mediaType(MediaType.APPLICATION_JSON_TYPE).data(type, data).build();
    }
}
