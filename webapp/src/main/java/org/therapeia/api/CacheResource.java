package org.therapeia.api;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;

/** {@code POST /api/v1/cache/clear}: an operator action, refused (401) without the admin token. */
@Path("cache")
@RequestScoped
public class CacheResource {

    public static final String TOKEN_HEADER = "X-Admin-Token";

    @Inject
    ResponseCache cache;

    @Inject
    InferenceConfig config;

    @POST
    @Path("clear")
    @Produces({MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE})
    @Operation(summary = "Clear the response cache, cluster-wide",
            description = "Requires admin.token in the X-Admin-Token header or as a Bearer token.")
    @APIResponse(responseCode = "200", description = "Cleared")
    @APIResponse(responseCode = "401", description = "Missing or wrong admin token")
    public Response clear(@HeaderParam(TOKEN_HEADER) String token,
                          @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        if (!SharedSecret.matches(config.adminToken(), token, authorization)) {
            throw new UnauthorizedException(
                    "cache clear requires the admin token (X-Admin-Token or Authorization: Bearer)", null);
        }
        long removed = cache.clear();
        return Response.ok(Json.createObjectBuilder().add("status", "cleared").add("entries_removed", removed).build()
                .toString(), MediaType.APPLICATION_JSON).build();
    }
}
