package org.therapeia.benchmark;

import org.HdrHistogram.Histogram;

/**
 * Percentiles of a set of durations, in seconds, from an HdrHistogram (3 significant digits: a
 * reported value is within 0.1% of a recorded one).
 *
 * @param count how many durations; the other fields are 0 when it is 0
 */
public record LatencySummary(long count, double p50, double p95, double p99, double mean, double min, double max) {

    static final int SIGNIFICANT_DIGITS = 3;
    private static final double NANOS_PER_SECOND = 1e9;

    public static final LatencySummary EMPTY = new LatencySummary(0, 0, 0, 0, 0, 0, 0);

    /** A histogram of durations in nanoseconds that grows as needed. */
    static Histogram newHistogram() {
        Histogram histogram = new Histogram(SIGNIFICANT_DIGITS);
        histogram.setAutoResize(true);
        return histogram;
    }

    static LatencySummary of(Histogram nanos) {
        if (nanos.getTotalCount() == 0) {
            return EMPTY;
        }
        return new LatencySummary(nanos.getTotalCount(),
                seconds(nanos.getValueAtPercentile(50)),
                seconds(nanos.getValueAtPercentile(95)),
                seconds(nanos.getValueAtPercentile(99)),
                nanos.getMean() / NANOS_PER_SECOND,
                seconds(nanos.getMinValue()),
                seconds(nanos.getMaxValue()));
    }

    private static double seconds(long nanos) {
        return nanos / NANOS_PER_SECOND;
    }
}
