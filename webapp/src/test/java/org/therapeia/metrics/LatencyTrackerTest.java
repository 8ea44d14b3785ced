package org.therapeia.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LatencyTrackerTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void percentilesOfKnownValues() {
        LatencyTracker t = new LatencyTracker(Duration.ofSeconds(60), () -> 0L);
        for (int i = 1; i <= 100; i++) {
            t.record(i * 10 * MS); // 10 ms .. 1000 ms
        }
        LatencySnapshot s = t.snapshot();
        assertEquals(100, s.totalRequests());
        assertEquals(100, s.windowCount());
        assertEquals(0.505, s.avg(), 0.001);
        assertEquals(0.50, s.p50(), 0.001);
        assertEquals(0.95, s.p95(), 0.001);
        assertEquals(0.99, s.p99(), 0.001);
        assertEquals(1.0, s.max(), 0.001);
    }

    @Test
    void oldSamplesLeaveTheWindow() {
        AtomicLong now = new AtomicLong(0);
        LatencyTracker t = new LatencyTracker(Duration.ofSeconds(10), now::get);
        t.record(5000 * MS);
        now.addAndGet(TimeUnit.SECONDS.toNanos(5));
        t.record(100 * MS);
        assertEquals(2, t.snapshot().windowCount());
        now.addAndGet(TimeUnit.SECONDS.toNanos(6)); // the 5 s sample is 11 s old
        LatencySnapshot s = t.snapshot();
        assertEquals(1, s.windowCount());
        assertEquals(0.1, s.p95(), 0.001);
        assertEquals(2, s.totalRequests());
        now.addAndGet(TimeUnit.SECONDS.toNanos(60));
        assertEquals(0, t.snapshot().windowCount());
        assertEquals(0.0, t.snapshot().p95());
    }

    @Test
    void cacheHitRate() {
        LatencyTracker t = new LatencyTracker(Duration.ofSeconds(10), () -> 0L);
        assertEquals(0.0, t.snapshot().cacheHitRate());
        t.cacheLookup(true);
        t.cacheLookup(false);
        t.cacheLookup(false);
        t.cacheLookup(true);
        assertEquals(0.5, t.snapshot().cacheHitRate());
    }
}
