package org.therapeia.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.therapeia.inference.GenerationTimeoutException;
import org.therapeia.inference.InferenceService;

/**
 * Streams a reply as its generation produces it: what {@code POST /api/v1/inference/stream} and
 * {@code POST /v1/chat/completions} with {@code stream: true} share, each with its own framing
 * ({@link ReplyStream}). Every stream
 * <ul>
 *   <li>is counted in {@link RepliesInFlight} from its arrival until it is closed, so that a stop
 *       waits for the streams of the generations it drained;</li>
 *   <li>cancels its generation when its client goes;</li>
 *   <li>has a deadline of its own ({@link InferenceService#replyDeadline()}): a reply still missing
 *       then ends the stream with a 504 error, whatever happens behind.</li>
 * </ul>
 * A request refused before its generation starts (bad input, queue full, not ready) is answered
 * as an error response, not a stream.
 */
@ApplicationScoped
public class StreamedReplies {

    /**
     * A stream whose generation has started.
     *
     * @param stream the reply's framing, which the generation's pieces go to
     * @param reply  the generation's end
     */
    public record Started(ReplyStream stream, CompletableFuture<InferenceResponse> reply) {
    }

    private RepliesInFlight replies;
    private InferenceService service;

    protected StreamedReplies() {
    }

    @Inject
    public StreamedReplies(RepliesInFlight replies, InferenceService service) {
        this.replies = replies;
        this.service = service;
    }

    /**
     * Starts the generation and streams it.
     *
     * @param generation reads the request, makes its stream and starts its generation with the
     *                   stream's {@link ReplyStream#text} as the pieces' listener; what it throws is
     *                   thrown on, for the exception mapper to answer
     */
    public void answer(Supplier<Started> generation) {
        Runnable written = replies.begin(); // a stop waits for this stream to end
        Started started;
        try {
            started = generation.get();
        } catch (RuntimeException refused) { // answered as an error response, not a stream
            written.run();
            throw refused;
        }
        ReplyStream stream = started.stream();
        CompletableFuture<InferenceResponse> reply = started.reply();
        stream.begun();
        stream.cancelsOnDisconnect(reply);
        reply.whenComplete((r, failure) -> stream.finish(r, failure).whenComplete((closed, e) -> written.run()));
        Duration deadline = service.replyDeadline();
        CompletableFuture.delayedExecutor(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> reply.completeExceptionally(new GenerationTimeoutException(deadline)));
    }
}
