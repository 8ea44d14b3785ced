package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The seed's JSON metrics; latencies in seconds over the recent window (metrics.window-seconds). */
@Schema(name = "MetricsReport")
@JsonbPropertyOrder({"total_requests", "avg_latency", "p50_latency", "p95_latency", "p99_latency", "cache_hit_rate",
        "cache_stats", "meets_sla"})
public record MetricsReport(
        @Schema(description = "Successful requests since start.")
        @JsonbProperty("total_requests") long totalRequests,
        @JsonbProperty("avg_latency") double avgLatency,
        @JsonbProperty("p50_latency") double p50Latency,
        @JsonbProperty("p95_latency") double p95Latency,
        @JsonbProperty("p99_latency") double p99Latency,
        @Schema(description = "Cache hits over cache lookups since start.")
        @JsonbProperty("cache_hit_rate") double cacheHitRate,
        @JsonbProperty("cache_stats") CacheStats cacheStats,
        @Schema(description = "p95_latency below sla.p95-seconds.")
        @JsonbProperty("meets_sla") boolean meetsSla) {
}
