package org.therapeia.safety;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts what the safety layer reports, without a MetricRegistry (none outside the container). */
public class NoSafetyMetrics extends SafetyMetrics {

    public final AtomicInteger signals = new AtomicInteger();
    public final AtomicInteger referrals = new AtomicInteger();
    public final AtomicInteger replacedReplies = new AtomicInteger();
    public final AtomicInteger errors = new AtomicInteger();
    public final AtomicInteger webhooks = new AtomicInteger();
    /** Guard verdicts missing, by reason. */
    public final Map<String, Integer> guardErrors = new ConcurrentHashMap<>();

    @Override
    public void register() {
    }

    @Override
    public void signal(Level level, Category category) {
        signals.incrementAndGet();
    }

    @Override
    public void referral() {
        referrals.incrementAndGet();
    }

    @Override
    public void replaced() {
        replacedReplies.incrementAndGet();
    }

    @Override
    public void detectorError() {
        errors.incrementAndGet();
    }

    @Override
    public void detection(long nanos) {
    }

    @Override
    public void guardError(String reason) {
        guardErrors.merge(reason, 1, Integer::sum);
    }

    @Override
    public void webhook(String outcome) {
        webhooks.incrementAndGet();
    }
}
