package org.therapeia.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.therapeia.cache.ResponseCache;

/**
 * Ready unless the response cache was refused: this node is in a cluster but has no
 * {@code cache.secret}, so it could neither trust nor share the cluster's entries (the server log
 * says why). Its data is the cache's mode: {@code SHARED}, {@code PRIVATE}, {@code REFUSED} or
 * {@code DISABLED}.
 */
@Readiness
@ApplicationScoped
public class ResponseCacheCheck implements HealthCheck {

    @Inject
    ResponseCache cache;

    @Override
    public HealthCheckResponse call() {
        ResponseCache.Mode mode = cache.mode();
        return HealthCheckResponse.named("response-cache")
                .status(mode != ResponseCache.Mode.REFUSED)
                .withData("mode", mode.name())
                .build();
    }
}
