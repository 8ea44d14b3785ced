package org.therapeia.safety;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Year;
import java.time.ZoneOffset;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Histogram;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.MetricUnits;
import org.eclipse.microprofile.metrics.Tag;

/**
 * The crisis-signal metrics (Prometheus, {@code /metrics?scope=application}). Labels name levels,
 * categories, years and outcomes only: never text, never a person. The yearly counters are the
 * aggregate a California SB 243 report needs (referral notifications per calendar year); they
 * live as long as the process does, so the audit log stays the durable record.
 */
@ApplicationScoped
public class SafetyMetrics {

    private MetricRegistry registry;
    private Counter referrals;
    private Counter replaced;
    private Counter detectorErrors;
    private Histogram detectorMicros;
    private final ConcurrentHashMap<String, Counter> tagged = new ConcurrentHashMap<>();

    protected SafetyMetrics() {
    }

    @Inject
    public SafetyMetrics(MetricRegistry registry) {
        this.registry = registry;
    }

    @PostConstruct
    public void register() {
        referrals = registry.counter(meta("therapeia_safety_referrals",
                "Replies that carried crisis resources (referral notifications)"));
        replaced = registry.counter(meta("therapeia_safety_replies_replaced",
                "Replies replaced by the safe fallback because they gave method, dose or lethality details"));
        detectorErrors = registry.counter(meta("therapeia_safety_detector_errors",
                "Detections that failed or ran over safety.detector.timeout-ms (treated as level 2)"));
        detectorMicros = registry.histogram(meta("therapeia_safety_detector_latency_microseconds",
                "Time to grade one request, its history included"));
    }

    private static Metadata meta(String name, String description) {
        return Metadata.builder().withName(name).withDescription(description).withUnit(MetricUnits.NONE).build();
    }

    /** One request's signal: per category at its level, and in the yearly aggregate. */
    public void signal(Level level, Category category) {
        String levelTag = Integer.toString(level.value());
        counter("therapeia_safety_signals", "Requests with a crisis signal, by level and category",
                new Tag("level", levelTag), new Tag("category", category.id())).inc();
        counter("therapeia_safety_signals_by_year", "Requests with a crisis signal per calendar year (UTC)",
                new Tag("year", year()), new Tag("level", levelTag), new Tag("category", category.id())).inc();
    }

    public void referral() {
        referrals.inc();
        counter("therapeia_safety_referrals_by_year",
                "Replies that carried crisis resources, per calendar year (UTC)", new Tag("year", year())).inc();
    }

    public void replaced() {
        replaced.inc();
    }

    public void detectorError() {
        detectorErrors.inc();
    }

    public void detection(long nanos) {
        detectorMicros.update(TimeUnit.NANOSECONDS.toMicros(nanos));
    }

    /**
     * A guard-model verdict the request did without (the rules decided alone): {@code timeout},
     * {@code failed} (the generation or the prompt failed), {@code unreadable} (not a documented
     * answer) or {@code unavailable} (not loaded, or its load failed).
     */
    public void guardError(String reason) {
        counter("therapeia_safety_guard_errors", "Guard-model verdicts missing (the rules decided alone), by reason",
                new Tag("reason", reason)).inc();
    }

    /** A webhook delivery's outcome: delivered or failed (after its retries). */
    public void webhook(String outcome) {
        counter("therapeia_safety_webhook", "Operator webhook deliveries by outcome",
                new Tag("outcome", outcome)).inc();
    }

    private Counter counter(String name, String description, Tag... tags) {
        StringBuilder key = new StringBuilder(name);
        for (Tag t : tags) {
            key.append('|').append(t.getTagName()).append('=').append(t.getTagValue());
        }
        return tagged.computeIfAbsent(key.toString(), k -> registry.counter(meta(name, description), tags));
    }

    private static String year() {
        return Integer.toString(Year.now(ZoneOffset.UTC).getValue());
    }
}
