package org.therapeia.api;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.therapeia.metrics.MetricsReporter;

/** {@code GET /api/v1/metrics}: the seed's JSON metrics (Prometheus metrics are at /metrics). */
@Path("api/v1/metrics")
@RequestScoped
public class MetricsResource {

    @Inject
    MetricsReporter reporter;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Latency percentiles, cache hit rate and cache size, as the seed reported them")
    public MetricsReport metrics() {
        return reporter.report();
    }
}
