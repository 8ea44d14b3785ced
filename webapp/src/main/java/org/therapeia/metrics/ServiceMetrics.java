package org.therapeia.metrics;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Histogram;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.MetricUnits;
import org.eclipse.microprofile.metrics.Tag;
import org.therapeia.cache.ResponseCache;
import org.therapeia.inference.ModelRuntime;
import org.therapeia.inference.Scheduler;
import org.therapeia.inference.SchedulerListener;

/**
 * The MicroProfile Metrics (Prometheus, at {@code /metrics?scope=application}) of the service.
 * Units are in the names ({@code _milliseconds}, {@code _microseconds}, {@code _per_second}) and the values are in those
 * units: registered with {@link MetricUnits#NONE} so that no exporter rescales a value under a
 * name that says otherwise.
 */
@ApplicationScoped
public class ServiceMetrics implements SchedulerListener {

    private MetricRegistry registry;
    private ResponseCache cache;
    private ModelRuntime runtime;

    private Histogram latencyHit;
    private Histogram latencyMiss;
    private Histogram timeToFirstToken;
    private Histogram tokensPerSecond;
    private Histogram batchSize;
    private Histogram stepMicros;
    private Counter tokensGenerated;
    private Counter cacheHits;
    private Counter cacheMisses;
    private final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();

    protected ServiceMetrics() {
    }

    @Inject
    public ServiceMetrics(MetricRegistry registry, ResponseCache cache, ModelRuntime runtime) {
        this.registry = registry;
        this.cache = cache;
        this.runtime = runtime;
    }

    @PostConstruct
    void register() {
        latencyHit = registry.histogram(meta("therapeia_request_latency_milliseconds",
                "Time from arrival to reply of successful inference requests"), new Tag("cache", "hit"));
        latencyMiss = registry.histogram(meta("therapeia_request_latency_milliseconds",
                "Time from arrival to reply of successful inference requests"), new Tag("cache", "miss"));
        timeToFirstToken = registry.histogram(meta("therapeia_time_to_first_token_milliseconds",
                "Time from arrival to the first generated token"));
        tokensPerSecond = registry.histogram(meta("therapeia_generation_tokens_per_second",
                "Tokens per second of each generation, from admission to the last token"));
        batchSize = registry.histogram(meta("therapeia_engine_batch_size",
                "Sequences decoded together in each engine step"));
        stepMicros = registry.histogram(meta("therapeia_engine_step_microseconds", "Duration of each engine step"));
        tokensGenerated = registry.counter(meta("therapeia_tokens_generated", "Tokens generated"));
        cacheHits = registry.counter(meta("therapeia_cache_hits", "Response cache hits"));
        cacheMisses = registry.counter(meta("therapeia_cache_misses", "Response cache misses"));

        gauge("therapeia_queue_depth", "Requests waiting for an engine slot", Scheduler::queueDepth);
        gauge("therapeia_running_sequences", "Sequences in the engine", Scheduler::running);
        gauge("therapeia_kv_slots_in_use", "KV cache slots in use",
                s -> s.stats().totalSlots() - s.stats().freeSlots());
        gauge("therapeia_kv_slots_total", "KV cache slots", s -> s.stats().totalSlots());
        gauge("therapeia_last_batch_size", "Sequences decoded in the last engine step",
                s -> s.stats().lastBatchSize());
        registry.gauge(meta("therapeia_cache_size", "Entries in the response cache (counted)"), cache,
                ResponseCache::size);
        registry.gauge(meta("therapeia_cache_max_size", "Entry limit of the response cache"), cache,
                c -> (long) c.maxSize());
    }

    private void gauge(String name, String description, ToLongFunction<Scheduler> value) {
        registry.gauge(meta(name, description), runtime, r -> {
            Scheduler s = r.schedulerOrNull();
            return s == null ? 0L : value.applyAsLong(s);
        });
    }

    private static Metadata meta(String name, String description) {
        return Metadata.builder().withName(name).withDescription(description).withUnit(MetricUnits.NONE).build();
    }

    public void requestCompleted(long nanos, boolean cacheHit) {
        (cacheHit ? latencyHit : latencyMiss).update(TimeUnit.NANOSECONDS.toMillis(nanos));
    }

    public void generated(int tokens, long generationNanos) {
        tokensGenerated.inc(tokens);
        if (generationNanos > 0) {
            tokensPerSecond.update(Math.round(tokens * 1e9 / generationNanos));
        }
    }

    public void cacheLookup(boolean hit) {
        (hit ? cacheHits : cacheMisses).inc();
    }

    /** An error answered to a client, by kind (invalid_request, queue_full, timeout, not_ready, engine, ...). */
    public void error(String kind) {
        errors.computeIfAbsent(kind, k -> registry.counter(meta("therapeia_errors",
                "Requests answered with an error, by kind"), new Tag("kind", k))).inc();
    }

    @Override
    public void onStep(int batch, int tokens, long nanos) {
        batchSize.update(batch);
        stepMicros.update(TimeUnit.NANOSECONDS.toMicros(nanos));
    }

    @Override
    public void onFirstToken(long nanos) {
        timeToFirstToken.update(TimeUnit.NANOSECONDS.toMillis(nanos));
    }
}
