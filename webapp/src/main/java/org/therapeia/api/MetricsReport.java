package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The seed's JSON metrics; latencies in seconds over the recent window (metrics.window-seconds). */
@Schema(name = "MetricsReport")
@JsonbPropertyOrder({"total_requests", "avg_latency", "p50_latency", "p95_latency", "p99_latency", "cache_hit_rate",
        "cache_stats", "meets_sla"})
public record MetricsReport(
        @Schema(name = "total_requests", description = "Successful requests since start.")
        @JsonbProperty("total_requests") long totalRequests,
        @Schema(name = "avg_latency")
        @JsonbProperty("avg_latency") double avgLatency,
        @Schema(name = "p50_latency")
        @JsonbProperty("p50_latency") double p50Latency,
        @Schema(name = "p95_latency")
        @JsonbProperty("p95_latency") double p95Latency,
        @Schema(name = "p99_latency")
        @JsonbProperty("p99_latency") double p99Latency,
        @Schema(name = "cache_hit_rate", description = "Cache hits over cache lookups since start.")
        @JsonbProperty("cache_hit_rate") double cacheHitRate,
        @Schema(name = "cache_stats")
        @JsonbProperty("cache_stats") CacheStats cacheStats,
        @Schema(name = "meets_sla", description = "p95_latency below sla.p95-seconds.")
        @JsonbProperty("meets_sla") boolean meetsSla) {
}
