package org.therapeia.api;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Providers;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.therapeia.inference.InferenceService;
import org.therapeia.metrics.ServiceMetrics;

/**
 * {@code POST /api/v1/inference/stream}: the same request as {@code /api/v1/inference}, answered
 * as server-sent events while the model writes (see {@link ReplyEvents}). A request refused before
 * generation starts (bad input, not ready, queue full, prompt too long) gets the same problem
 * response as the plain endpoint, not a stream. A client that disconnects frees its engine slot,
 * or its place in the queue (noticed at the first write after it left: a token, or the notice,
 * about once a second, that its request still waits). Like the plain endpoint, the stream has a
 * deadline of its own ({@link StreamedReplies}): a reply still missing then ends with a 504 error
 * event, so that no stream stays open forever.
 */
@Path("api/v1/inference/stream")
@RequestScoped
@ApiKeyRequired
@SecurityRequirement(name = TherapeiaApplication.API_KEY_SCHEME)
public class InferenceStreamResource {

    @Inject
    InferenceRequestReader reader;

    @Inject
    InferenceService service;

    @Inject
    ServiceMetrics metrics;

    @Inject
    StreamedReplies streams;

    @Context
    Providers providers;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Generate a therapeutic reply, streamed",
            description = "Server-sent events: 'token' events ({\"text\": ...}) as the reply is written, then "
                    + "'done' with the response object of /api/v1/inference, or 'error' with a problem. "
                    + "The token texts concatenate to the done event's response, which is authoritative.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = InferenceRequest.class)))
    @APIResponse(responseCode = "200", description = "The event stream",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS,
                    schema = @Schema(implementation = TextPiece.class)))
    @APIResponse(responseCode = "400", description = "Invalid request (a body that is not UTF-8 JSON: field "
            + "body); field names the culprit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "api.key is set and the request lacks it",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "415", description = "The body is not application/json",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Not ready, the queue is full, or shutting down (see Retry-After)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public void stream(InputStream body, @HeaderParam(HttpHeaders.ACCEPT_LANGUAGE) String acceptLanguage,
                       @Context SseEventSink sink, @Context Sse sse) {
        long arrival = System.nanoTime();
        streams.answer(() -> {
            InferenceRequest request = reader.read(body)
                    .withDefaultLocale(InferenceRequestReader.preferredLocale(acceptLanguage));
            ExceptionMapper<Throwable> mapper = providers.getExceptionMapper(Throwable.class);
            ReplyEvents events = new ReplyEvents(sink, sse, failure -> (Problem) mapper.toResponse(failure).getEntity(),
                    metrics);
            return new StreamedReplies.Started(events, service.infer(request, arrival, events::text));
        });
    }
}
