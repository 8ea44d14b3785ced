package org.therapeia.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.therapeia.inference.ModelRuntime;
import org.therapeia.metrics.LatencySnapshot;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.metrics.MetricsReporter;

/**
 * Ready when the model is loaded and warmed up. Its data carries the seed's /health fields
 * ({@code model_loaded, uptime_seconds, total_requests, avg_latency, p95_latency, cache_hit_rate,
 * meets_sla}) and the model's state: states and figures only. Why a load failed names files and
 * carries exception text, so it goes to the server log ({@link ModelRuntime}), never into health data,
 * which load balancers, probes and dashboards read without authentication.
 */
@Readiness
@ApplicationScoped
public class ModelReadinessCheck implements HealthCheck {

    @Inject
    ModelRuntime runtime;

    @Inject
    LatencyTracker tracker;

    @Inject
    MetricsReporter reporter;

    @Override
    public HealthCheckResponse call() {
        LatencySnapshot s = tracker.snapshot();
        return HealthCheckResponse.named("model")
                .status(runtime.state() == ModelRuntime.State.READY)
                .withData("state", runtime.state().name())
                .withData("model_loaded", runtime.modelLoaded())
                .withData("uptime_seconds", String.format(java.util.Locale.ROOT, "%.1f", runtime.uptimeSeconds()))
                .withData("total_requests", s.totalRequests())
                .withData("avg_latency", Double.toString(s.avg()))
                .withData("p95_latency", Double.toString(s.p95()))
                .withData("cache_hit_rate", Double.toString(s.cacheHitRate()))
                .withData("meets_sla", reporter.meetsSla(s))
                .build();
    }
}
