package org.therapeia.api;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;
import org.therapeia.config.InferenceConfig;

/**
 * The optional API key of the inference endpoints ({@link ApiKeyRequired}): with {@code api.key}
 * set, a request without it in {@code X-API-Key} or {@code Authorization: Bearer} is answered
 * 401 ({@link UnauthorizedException}) before its body is read; without {@code api.key}, every
 * request passes.
 */
@Provider
@ApiKeyRequired
@Priority(Priorities.AUTHENTICATION)
public class ApiKeyFilter implements ContainerRequestFilter {

    public static final String HEADER = "X-API-Key";

    @Inject
    InferenceConfig config;

    @Override
    public void filter(ContainerRequestContext request) {
        if (config.apiKey().isPresent() && !SharedSecret.matches(config.apiKey(), request.getHeaderString(HEADER),
                request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            throw new UnauthorizedException("this endpoint requires the API key (X-API-Key or Authorization: Bearer)",
                    HEADER);
        }
    }
}
