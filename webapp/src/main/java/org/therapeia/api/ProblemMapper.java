package org.therapeia.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.engine.EngineException;
import org.therapeia.inference.ChatTemplateException;
import org.therapeia.inference.GenerationTimeoutException;
import org.therapeia.inference.NotReadyException;
import org.therapeia.inference.PromptTooLongException;
import org.therapeia.inference.QueueFullException;
import org.therapeia.inference.SequenceFailedException;
import org.therapeia.inference.ShuttingDownException;
import org.therapeia.metrics.ServiceMetrics;

/**
 * Every failure to an RFC 7807 problem ({@code application/problem+json}), counted by kind:
 * bad input 400 naming the field; a missing secret 401 with {@code WWW-Authenticate}; a body that is not
 * JSON 415 naming Content-Type; not ready, queue full or shutting down 503 with Retry-After;
 * a generation over its time 504; a generation the engine ended alone 500 {@code sequence-failed}
 * naming the cause; a model that is not served 404 naming {@code model}; anything else 500 with
 * no detail. Only exception class names are logged, never a message that could hold user text.
 *
 * <p>This is the one place that decides status, field and headers. Under {@code /v1/} (the
 * OpenAI-compatible API) the same decision is rendered as OpenAI's error body
 * ({@link OpenAiError}).
 */
@Provider
public class ProblemMapper implements ExceptionMapper<Throwable> {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class.getName());

    /** A body that is not JSON, by its Content-Type (also sent by the servlet filter that checks the header). */
    public static final String UNSUPPORTED_MEDIA_TYPE_KIND = "unsupported_media_type";
    public static final Problem UNSUPPORTED_MEDIA_TYPE = Problem.of("unsupported-media-type",
            "Unsupported Media Type", 415, "the request body must be JSON: send Content-Type: application/json",
            "Content-Type");

    @Inject
    ServiceMetrics metrics;

    @Context
    UriInfo uri;

    @Override
    public Response toResponse(Throwable thrown) {
        return rendered(OpenAiError.isOpenAiPath(uri), thrown);
    }

    /**
     * How the failures of the request being answered are rendered, decided now, on its thread (a
     * problem, or under {@code /v1/} OpenAI's error body): a generation's failure is answered
     * later, on another thread, where the request's path can no longer be read.
     */
    public Function<Throwable, Response> forThisRequest() {
        boolean openAi = OpenAiError.isOpenAiPath(uri);
        return thrown -> rendered(openAi, thrown);
    }

    private Response rendered(boolean openAi, Throwable thrown) {
        Response problem = problemResponse(thrown);
        return openAi ? OpenAiError.response(problem) : problem;
    }

    /** The problem response for {@code thrown}, whatever the path (streams render it themselves). */
    public Response problemResponse(Throwable thrown) {
        Throwable e = thrown instanceof CompletionException && thrown.getCause() != null ? thrown.getCause() : thrown;
        if (e instanceof InvalidRequestException invalid) {
            boolean unsupported = invalid instanceof UnsupportedParameterException;
            return problem("invalid_request", Problem.of(unsupported ? "unsupported-parameter" : "invalid-request",
                    unsupported ? "Unsupported parameter" : "Invalid request", 400, invalid.getMessage(),
                    invalid.field()));
        }
        if (e instanceof UnauthorizedException unauthorized) {
            return Response.fromResponse(problem("unauthorized", Problem.of("unauthorized", "Unauthorized", 401,
                    e.getMessage(), unauthorized.field())))
                    .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"therapeia\"").build();
        }
        if (e instanceof ModelNotFoundException notFound) {
            return problem("model_not_found", Problem.of("model-not-found", "Model not found", 404, e.getMessage(),
                    notFound.field()));
        }
        if (e instanceof PromptTooLongException) {
            return problem("prompt_too_long", Problem.of("prompt-too-long", "Prompt too long", 400, e.getMessage(),
                    "user_input"));
        }
        if (e instanceof ChatTemplateException template) {
            if (template.raisedByTemplate()) {
                return problem("invalid_conversation", Problem.of("invalid-conversation",
                        "The model's chat template refused the conversation", 400, e.getMessage(),
                        "conversation_history"));
            }
            LOG.log(Level.SEVERE, "chat template failure: " + e.getMessage());
            return problem("template", Problem.of("chat-template", "Chat template failure", 500,
                    "the model's chat template could not be rendered", null));
        }
        if (e instanceof NotReadyException) {
            return retryLater("not_ready", Problem.of("not-ready", "Not ready", 503, e.getMessage(), null), 5);
        }
        if (e instanceof QueueFullException) {
            return retryLater("queue_full", Problem.of("queue-full", "Too busy", 503, e.getMessage(), null), 1);
        }
        if (e instanceof ShuttingDownException) {
            return retryLater("shutting_down", Problem.of("shutting-down", "Shutting down", 503, e.getMessage(), null),
                    5);
        }
        if (e instanceof GenerationTimeoutException) {
            return problem("timeout", Problem.of("timeout", "Generation timed out", 504, e.getMessage(), null));
        }
        if (e instanceof SequenceFailedException) {
            // this request's own failure: the engine names the cause (never text) and served the rest
            return problem("sequence_failed", Problem.of("sequence-failed", "Generation failed", 500, e.getMessage(),
                    null));
        }
        if (e instanceof EngineException) {
            // engine messages name files, tensors and limits, never text
            LOG.log(Level.SEVERE, "engine failure: " + e.getMessage());
            return problem("engine", Problem.of("engine", "Inference engine failure", 500,
                    "the inference engine failed", null));
        }
        if (e instanceof NotSupportedException) {
            // JAX-RS refuses a Content-Type that no @Consumes accepts before the resource runs
            return problem(UNSUPPORTED_MEDIA_TYPE_KIND, UNSUPPORTED_MEDIA_TYPE);
        }
        if (e instanceof WebApplicationException web) {
            int status = web.getResponse().getStatus();
            return problem("http_" + status, Problem.of("http-" + status,
                    Response.Status.fromStatusCode(status) == null ? "Error"
                            : Response.Status.fromStatusCode(status).getReasonPhrase(), status,
                    status == 404 ? "no such resource" : "the request was refused", null));
        }
        LOG.log(Level.SEVERE, "unexpected failure: " + e.getClass().getName());
        return problem("internal", Problem.of("internal", "Internal error", 500, "an internal error occurred", null));
    }

    private Response problem(String kind, Problem problem) {
        if (metrics != null) {
            metrics.error(kind);
        }
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE_TYPE).entity(problem).build();
    }

    private Response retryLater(String kind, Problem problem, int seconds) {
        Response r = problem(kind, problem);
        return Response.fromResponse(r).header("Retry-After", Integer.toString(seconds)).build();
    }
}
