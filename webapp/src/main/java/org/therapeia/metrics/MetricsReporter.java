package org.therapeia.metrics;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.therapeia.api.CacheStats;
import org.therapeia.api.MetricsReport;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;

/** Builds the seed's metrics JSON (also the readiness check's data) from the tracker and the cache. */
@ApplicationScoped
public class MetricsReporter {

    private LatencyTracker tracker;
    private ResponseCache cache;
    private InferenceConfig config;

    protected MetricsReporter() {
    }

    @Inject
    public MetricsReporter(LatencyTracker tracker, ResponseCache cache, InferenceConfig config) {
        this.tracker = tracker;
        this.cache = cache;
        this.config = config;
    }

    public MetricsReport report() {
        LatencySnapshot s = tracker.snapshot();
        long size = cache.size();
        int max = cache.maxSize();
        return new MetricsReport(s.totalRequests(), s.avg(), s.p50(), s.p95(), s.p99(), s.cacheHitRate(),
                new CacheStats(size, max, max == 0 ? 0 : (double) size / max), meetsSla(s));
    }

    /** P95 latency below sla.p95-seconds (true while there is no sample in the window). */
    public boolean meetsSla(LatencySnapshot s) {
        return s.p95() < config.slaP95Seconds();
    }
}
