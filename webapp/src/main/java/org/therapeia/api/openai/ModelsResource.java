package org.therapeia.api.openai;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.therapeia.api.ApiKeyRequired;
import org.therapeia.api.ModelNotFoundException;
import org.therapeia.api.TherapeiaApplication;
import org.therapeia.config.InferenceConfig;

/**
 * {@code GET /v1/models}: the one served model under each name a request may give for it
 * ({@code model.id}, then {@code model.aliases}), as OpenAI lists models and as vLLM lists its
 * served model names, with vLLM's {@code max_model_len} (the context clients may budget for); and
 * {@code GET /v1/models/{model}}, one of them.
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
    @Operation(summary = "The served model, OpenAI's model list (model.id first, then its aliases)")
    public String models() {
        JsonArrayBuilder data = Json.createArrayBuilder();
        config.servedModelNames().forEach(name -> data.add(modelObject(name)));
        return Json.createObjectBuilder().add("object", "list").add("data", data).build().toString();
    }

    @GET
    @Path("{model: .+}") // ids may hold slashes (organisation/name)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The served model by one of its names, OpenAI's model object")
    @APIResponse(responseCode = "404", description = "Not a name of the served model (code model_not_found)")
    public String retrieve(@PathParam("model") String model) {
        if (!config.servesModel(model)) {
            throw ModelNotFoundException.notServed("model", config.servedModelNames());
        }
        return modelObject(model).toString();
    }

    private JsonObject modelObject(String name) {
        return Json.createObjectBuilder().add("id", name).add("object", "model").add("created", STARTED)
                .add("owned_by", "therapeia").add("max_model_len", config.maxContextLength()).build();
    }
}
