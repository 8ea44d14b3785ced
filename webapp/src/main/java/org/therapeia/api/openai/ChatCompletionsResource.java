package org.therapeia.api.openai;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Providers;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.therapeia.api.ApiKeyRequired;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceRequestReader;
import org.therapeia.api.OpenAiError;
import org.therapeia.api.Problem;
import org.therapeia.api.ProblemMapper;
import org.therapeia.api.PlainReplies;
import org.therapeia.api.StreamedReplies;
import org.therapeia.api.TherapeiaApplication;
import org.therapeia.config.InferenceConfig;
import org.therapeia.inference.InferenceService;
import org.therapeia.inference.SamplingDefaults;
import org.therapeia.metrics.ServiceMetrics;

/**
 * {@code POST /v1/chat/completions}, OpenAI's chat API over the same {@link InferenceService}
 * (cache, scheduler, limits) as the seed's. The body's {@code stream} decides the method:
 * {@link StreamSelector} sets the request's {@code Accept} from it before matching, so that a
 * non-streamed request is answered as JSON by {@link #complete} and a streamed one as server-sent
 * events by {@link #stream}. Every error has OpenAI's body ({@link OpenAiError}); a failure
 * before the stream begins is a plain error response, one after it an error event.
 */
@Path("v1/chat/completions")
@RequestScoped
@ApiKeyRequired
@SecurityRequirement(name = TherapeiaApplication.API_KEY_SCHEME)
public class ChatCompletionsResource {

    private static final SecureRandom IDS = new SecureRandom();

    @Inject
    ChatCompletionReader reader;

    @Inject
    InferenceService service;

    @Inject
    PlainReplies replies;

    @Inject
    StreamedReplies streams;

    @Inject
    InferenceConfig config;

    @Inject
    ServiceMetrics metrics;

    @Context
    Providers providers;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "OpenAI-compatible chat completion",
            description = "OpenAI's chat-completions request and reply (stream: true answers as server-sent "
                    + "chunks). Errors: {\"error\": {\"message\", \"type\", \"param\", \"code\"}}.")
    @APIResponse(responseCode = "200", description = "A chat.completion object, or with stream: true "
            + "text/event-stream chunks ending with data: [DONE]")
    @APIResponse(responseCode = "400", description = "Invalid or unsupported parameter (param names it)")
    @APIResponse(responseCode = "401", description = "api.key is set and the request lacks it")
    @APIResponse(responseCode = "404", description = "model names neither the served model nor one of its "
            + "aliases (code model_not_found)")
    @APIResponse(responseCode = "415", description = "The body is not application/json (param Content-Type)")
    @APIResponse(responseCode = "503", description = "Not ready, shutting down, or the queue is full (see "
            + "Retry-After)")
    @APIResponse(responseCode = "504", description = "The generation ran over request.timeout")
    @APIResponse(responseCode = "500", description = "The engine ended this request's generation alone (code "
            + "sequence_failed), or an internal failure")
    public void complete(InputStream body, @HeaderParam(HttpHeaders.ACCEPT_LANGUAGE) String acceptLanguage,
                         @Suspended AsyncResponse response) {
        long arrival = System.nanoTime();
        ChatCompletionJson json = newCompletion();
        replies.answer(response, providers, () -> service.infer(inference(reader.read(body), acceptLanguage),
                        SamplingDefaults.MODEL_THEN_SERVICE, arrival, null),
                reply -> Response.ok(json.completion(reply).toString(), MediaType.APPLICATION_JSON_TYPE).build());
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(hidden = true) // the same operation as complete, answered as a stream
    public void stream(InputStream body, @HeaderParam(HttpHeaders.ACCEPT_LANGUAGE) String acceptLanguage,
                       @Context SseEventSink sink, @Context Sse sse) {
        long arrival = System.nanoTime();
        streams.answer(() -> {
            ChatCompletionRequest request = reader.read(body);
            ProblemMapper mapper = (ProblemMapper) providers.getExceptionMapper(Throwable.class);
            ChatCompletionEvents events = new ChatCompletionEvents(sink, sse, newCompletion(), request.includeUsage(),
                    failure -> OpenAiError.body((Problem) mapper.problemResponse(failure).getEntity()), metrics);
            return new StreamedReplies.Started(events, service.infer(inference(request, acceptLanguage),
                    SamplingDefaults.MODEL_THEN_SERVICE, arrival, events::text));
        });
    }

    private static InferenceRequest inference(ChatCompletionRequest request, String acceptLanguage) {
        return request.inference().withDefaultLocale(InferenceRequestReader.preferredLocale(acceptLanguage));
    }

    private ChatCompletionJson newCompletion() {
        byte[] id = new byte[12];
        IDS.nextBytes(id);
        return new ChatCompletionJson("chatcmpl-" + HexFormat.of().formatHex(id), System.currentTimeMillis() / 1000,
                config.modelId());
    }
}
