package org.therapeia.api;

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
import jakarta.ws.rs.ext.Providers;
import java.io.InputStream;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.therapeia.inference.InferenceService;

/**
 * {@code POST /api/v1/inference}: reads and validates the body, hands it to
 * {@link InferenceService}, and answers when the generation completes, holding no request
 * thread meanwhile, with a deadline of its own ({@link PlainReplies}).
 */
@Path("api/v1/inference")
@RequestScoped
@ApiKeyRequired
@SecurityRequirement(name = TherapeiaApplication.API_KEY_SCHEME)
public class InferenceResource {

    @Inject
    InferenceRequestReader reader;

    @Inject
    InferenceService service;

    @Inject
    PlainReplies replies;

    @Context
    Providers providers;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE})
    @Operation(summary = "Generate a therapeutic reply",
            description = "Renders the model's chat template over the system prompt, the recent history and the "
                    + "user input, and generates a reply; identical requests may be answered from the cache.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = InferenceRequest.class)))
    @APIResponse(responseCode = "200", description = "The reply",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = InferenceResponse.class)))
    @APIResponse(responseCode = "400", description = "Invalid request (a body that is not UTF-8 JSON: field "
            + "body); field names the culprit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "api.key is set and the request lacks it",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "415", description = "The body is not application/json",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Not ready, the queue is full, or shutting down (see Retry-After)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "The generation ran over request.timeout",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "500", description = "The engine ended this request's generation alone (type "
            + "urn:therapeia:problem:sequence-failed, the detail names the cause; other requests are unaffected), "
            + "or an internal failure",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public void infer(InputStream body, @HeaderParam(HttpHeaders.ACCEPT_LANGUAGE) String acceptLanguage,
                      @Suspended AsyncResponse response) {
        long arrival = System.nanoTime();
        replies.answer(response, providers, () -> service.infer(reader.read(body)
                .withDefaultLocale(InferenceRequestReader.preferredLocale(acceptLanguage)), arrival), reply -> reply);
    }
}
