package org.therapeia.api;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import org.therapeia.config.InferenceConfig;
import org.therapeia.metrics.ServiceMetrics;

/**
 * The optional API key of the inference endpoints ({@link ApiKeyRequired}): with {@code api.key}
 * set, a request without it in {@code X-API-Key} or {@code Authorization: Bearer} is answered
 * 401 before its body is read; without {@code api.key}, every request passes.
 */
@Provider
@ApiKeyRequired
@Priority(Priorities.AUTHENTICATION)
public class ApiKeyFilter implements ContainerRequestFilter {

    public static final String HEADER = "X-API-Key";

    @Inject
    InferenceConfig config;

    @Inject
    ServiceMetrics metrics;

    @Override
    public void filter(ContainerRequestContext request) {
        if (config.apiKey().isEmpty() || SharedSecret.matches(config.apiKey(), request.getHeaderString(HEADER),
                request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return;
        }
        metrics.error("unauthorized");
        Problem problem = Problem.of("unauthorized", "Unauthorized", 401,
                "this endpoint requires the API key (X-API-Key or Authorization: Bearer)", HEADER);
        request.abortWith(Response.status(401).type(Problem.MEDIA_TYPE_TYPE)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"therapeia\"").entity(problem).build());
    }
}
