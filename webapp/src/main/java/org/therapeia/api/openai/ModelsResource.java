package org.therapeia.api.openai;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.therapeia.api.ApiKeyRequired;
import org.therapeia.api.TherapeiaApplication;
import org.therapeia.config.InferenceConfig;

/**
 * {@code GET /v1/models}: the one served model, as OpenAI lists models, with vLLM's
 * {@code max_model_len} (the context clients may budget for).
 */
@Path("v1/models")
@RequestScoped
@ApiKeyRequired
@SecurityRequirement(name = TherapeiaApplication.API_KEY_SCHEME)
public class ModelsResource {

    /** When this application started: the served model's {@code created}. */
    private static final long STARTED = System.currentTimeMillis() / 1000;

    @Inject
    InferenceConfig config;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The served model, OpenAI's model list")
    public String models() {
        return Json.createObjectBuilder().add("object", "list").add("data", Json.createArrayBuilder()
                .add(Json.createObjectBuilder().add("id", config.modelId()).add("object", "model")
                        .add("created", STARTED).add("owned_by", "therapeia")
                        .add("max_model_len", config.maxContextLength())))
                .build().toString();
    }
}
