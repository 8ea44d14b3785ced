package org.therapeia.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Providers;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.therapeia.inference.GenerationTimeoutException;
import org.therapeia.inference.InferenceService;

/**
 * Answers a plain (not streamed) inference endpoint's suspended request once its generation
 * completes, holding no request thread meanwhile: what {@code POST /api/v1/inference} and
 * {@code POST /v1/chat/completions} share. Every answer
 * <ul>
 *   <li>is counted in {@link RepliesInFlight} from its arrival until it is written, so that a stop
 *       waits for the replies of the generations it drained;</li>
 *   <li>has a deadline of its own ({@link InferenceService#replyDeadline()}): a reply still missing
 *       then is answered 504 and its generation given up, so that no client waits forever,
 *       whatever happens behind;</li>
 *   <li>renders a failure the way the request's own API does (a problem, or OpenAI's error body),
 *       with the exception mapper taken when the request arrived.</li>
 * </ul>
 */
@ApplicationScoped
public class PlainReplies {

    private RepliesInFlight replies;
    private InferenceService service;

    protected PlainReplies() {
    }

    @Inject
    public PlainReplies(RepliesInFlight replies, InferenceService service) {
        this.replies = replies;
        this.service = service;
    }

    /**
     * Starts the generation and resumes {@code response} with its reply or failure.
     *
     * @param providers  the request's JAX-RS providers (its exception mapper is taken from them now)
     * @param generation reads the request and starts its generation; what it throws (bad input, queue
     *                   full, not ready) is answered at once
     * @param entity     the reply as the endpoint answers it
     */
    public <T> void answer(AsyncResponse response, Providers providers, Supplier<CompletableFuture<T>> generation,
                           Function<? super T, ?> entity) {
        Runnable written = replies.begin();
        // taken now: a failure that ends a drained generation is answered while Jersey shuts down,
        // when resume(Throwable) was seen answered by Payara as an HTML 500 instead of the problem;
        // and decided now, on the request's thread: later, on the generation's, its path is out of reach
        Function<Throwable, Response> problems = ((ProblemMapper) providers.getExceptionMapper(Throwable.class))
                .forThisRequest();
        Duration deadline = service.replyDeadline();
        response.setTimeout(deadline.toMillis(), TimeUnit.MILLISECONDS);
        try {
            CompletableFuture<T> pending = generation.get();
            response.setTimeoutHandler(late -> {
                // first: the cancellation must not answer
                late.resume(problems.apply(new GenerationTimeoutException(deadline)));
                pending.cancel(false);
                written.run();
            });
            pending.whenComplete((reply, failure) -> {
                try {
                    // cancelled: only by the deadline, which has answered (not an internal error to log)
                    if (!(failure instanceof CancellationException)) {
                        response.resume(failure != null ? problems.apply(failure) : entity.apply(reply));
                    }
                } finally {
                    written.run();
                }
            });
        } catch (RuntimeException e) {
            try {
                response.resume(e);
            } finally {
                written.run();
            }
        }
    }
}
