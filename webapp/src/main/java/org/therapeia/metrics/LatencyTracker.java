package org.therapeia.metrics;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.therapeia.config.InferenceConfig;

/**
 * Request latency percentiles over a sliding window ({@code metrics.window-seconds}) with
 * HdrHistogram: the window is cut into {@value #BUCKETS} buckets, each a histogram of
 * microseconds (3 significant digits, up to an hour); a snapshot merges the buckets still inside
 * the window. Also counts requests and cache hits since start. Thread-safe.
 */
@ApplicationScoped
public class LatencyTracker {

    static final int BUCKETS = 10;
    private static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

    private long bucketNanos;
    private LongSupplier clock;
    private Histogram[] buckets;
    private long[] bucketEpochs;
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong cacheHits = new AtomicLong();
    private final AtomicLong cacheLookups = new AtomicLong();

    protected LatencyTracker() {
    }

    @Inject
    public LatencyTracker(InferenceConfig config) {
        this(config.metricsWindow(), System::nanoTime);
    }

    public LatencyTracker(Duration window, LongSupplier clock) {
        this.bucketNanos = Math.max(1, window.toNanos() / BUCKETS);
        this.clock = clock;
        this.buckets = new Histogram[BUCKETS];
        this.bucketEpochs = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            buckets[i] = new Histogram(HIGHEST_MICROS, 3);
            bucketEpochs[i] = Long.MIN_VALUE;
        }
    }

    /** A successful request took {@code nanos}. */
    public void record(long nanos) {
        long micros = Math.min(HIGHEST_MICROS, Math.max(0, TimeUnit.NANOSECONDS.toMicros(nanos)));
        long epoch = Math.floorDiv(clock.getAsLong(), bucketNanos);
        int i = (int) Math.floorMod(epoch, (long) BUCKETS);
        synchronized (this) {
            if (bucketEpochs[i] != epoch) {
                buckets[i].reset();
                bucketEpochs[i] = epoch;
            }
            buckets[i].recordValue(micros);
        }
        total.incrementAndGet();
    }

    /** A cache lookup happened (only for requests that use the cache). */
    public void cacheLookup(boolean hit) {
        cacheLookups.incrementAndGet();
        if (hit) {
            cacheHits.incrementAndGet();
        }
    }

    public long totalRequests() {
        return total.get();
    }

    public LatencySnapshot snapshot() {
        long epoch = Math.floorDiv(clock.getAsLong(), bucketNanos);
        Histogram merged = new Histogram(HIGHEST_MICROS, 3);
        synchronized (this) {
            for (int i = 0; i < BUCKETS; i++) {
                if (bucketEpochs[i] != Long.MIN_VALUE && epoch - bucketEpochs[i] < BUCKETS) {
                    merged.add(buckets[i]);
                }
            }
        }
        long lookups = cacheLookups.get();
        double hitRate = lookups == 0 ? 0.0 : (double) cacheHits.get() / lookups;
        long n = merged.getTotalCount();
        if (n == 0) {
            return new LatencySnapshot(total.get(), 0, 0, 0, 0, 0, 0, hitRate);
        }
        return new LatencySnapshot(total.get(), n, seconds(merged.getMean()),
                seconds(merged.getValueAtPercentile(50)), seconds(merged.getValueAtPercentile(95)),
                seconds(merged.getValueAtPercentile(99)), seconds(merged.getMaxValue()), hitRate);
    }

    private static double seconds(double micros) {
        return micros / 1e6;
    }
}
