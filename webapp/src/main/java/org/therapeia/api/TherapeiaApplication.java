package org.therapeia.api;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeIn;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/**
 * The REST APIs: the seed's under /api/v1 and the OpenAI-compatible one under /v1, in one
 * application so that both share the providers (API key, exception mapping); each resource names
 * its full path. MicroProfile Health, Metrics and OpenAPI keep their own /health, /metrics and
 * /openapi (their servlet mappings are more specific than this application's).
 */
@ApplicationPath("/")
@OpenAPIDefinition(info = @Info(title = "Therapeia", version = "0.1.0",
        description = "Low-latency inference for therapeutic conversational AI. Health: /health/ready, "
                + "/health/live, /health/started. Prometheus metrics: /metrics."),
        components = @Components(securitySchemes = @SecurityScheme(
                securitySchemeName = TherapeiaApplication.API_KEY_SCHEME, type = SecuritySchemeType.APIKEY,
                in = SecuritySchemeIn.HEADER, apiKeyName = ApiKeyFilter.HEADER,
                description = "Required by the inference endpoints only when api.key is set "
                        + "(also accepted as Authorization: Bearer).")))
public class TherapeiaApplication extends Application {

    public static final String API_KEY_SCHEME = "apiKey";

    /**
     * Jersey's WADL off: it describes every endpoint at /application.wadl and as the answer to any
     * OPTIONS request, which no request filter sees, so it bypassed the API key. /openapi is the
     * document meant for clients; OPTIONS still answers with {@code Allow}.
     */
    private static final Map<String, Object> PROPERTIES = Map.of("jersey.config.server.wadl.disableWadl", true);

    @Override
    public Map<String, Object> getProperties() {
        return PROPERTIES;
    }
}
