package org.therapeia.metrics;

/**
 * Request latencies over the recent window, in seconds, and the all-time counters of the seed's
 * metrics.
 *
 * @param totalRequests successful requests since start (cache hits included)
 * @param windowCount   requests within the window
 * @param cacheHitRate  cache hits over cache lookups since start (0 when none)
 */
public record LatencySnapshot(long totalRequests, long windowCount, double avg, double p50, double p95, double p99,
                              double max, double cacheHitRate) {
}
