package org.therapeia.benchmark;

import java.net.URI;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The numbers of one run. Latency percentiles cover the successful requests (a fast 503 is not a
 * fast reply); failures are counted by status instead. Cache hits and the figures taken from the
 * engine's times exist only where the API's reply reports them ({@link Api#reportsServerFigures()}):
 * over OpenAI's API they stay empty (0) and the reports say they were not measured. The overhead outside the engine is a
 * successful cache miss's latency minus its {@code metadata.generation_time}: once as the client
 * measures latency (HTTP, JSON, tokenizer, chat template, queueing, the network) and once as the
 * service does (its {@code latency} field: everything but the network and this client).
 *
 * @param api              the API the requests spoke
 * @param wallSeconds      from the first request sent to the last one completed
 * @param distinctInputs   how many different requests were among those sent
 * @param errors           failures by status ("503") or kind ("timeout"), sorted
 * @param latency          client-measured latency of the successful requests
 * @param throughput       successful requests per second of wall time
 * @param cacheHitRate     hits among the successful requests (0 to 1)
 * @param meanTokens       mean {@code tokens_generated} of the successful requests
 * @param generation       {@code metadata.generation_time} of the successful cache misses
 * @param clientOverhead   latency minus generation_time, client-measured, successful misses
 * @param serverOverhead   the response's latency minus generation_time, successful misses
 * @param queue            {@code metadata.queue_time} of the successful misses: the part of the overhead
 *                         spent waiting for an engine slot (grows with load; the rest does not)
 * @param firstPiece       streamed runs: client-measured time to the first piece of text of the
 *                         successful requests (what a person waits before the reply starts); empty otherwise
 */
public record BenchmarkReport(Mode mode, Api api, URI url, int requests, int concurrency, boolean useCache,
        Integer maxNewTokens, long seed, double wallSeconds, int distinctInputs, long successes,
        Map<String, Long> errors, LatencySummary latency, double throughput, long cacheHits, double cacheHitRate,
        double meanTokens, LatencySummary generation, LatencySummary clientOverhead, LatencySummary serverOverhead,
        LatencySummary queue, LatencySummary firstPiece) {

    /** The seed's target: P95 latency under 2 seconds. */
    public static final double SLA_P95_SECONDS = 2.0;

    public BenchmarkReport {
        errors = Collections.unmodifiableMap(new TreeMap<>(errors));
    }

    /** P95 of the successful requests' latency is under {@link #SLA_P95_SECONDS} (false when none succeeded). */
    public boolean meetsSla() {
        return latency.count() > 0 && latency.p95() < SLA_P95_SECONDS;
    }

    public long failures() {
        return requests - successes;
    }

    /** Requests of any outcome per second of wall time. */
    public double requestRate() {
        return wallSeconds > 0 ? requests / wallSeconds : 0;
    }

    static BenchmarkReport of(BenchmarkOptions options, List<RequestInput> inputs, BenchmarkRunner.RunResult run) {
        return of(options.mode(), options.api(), options.url(), options.concurrency(), options.useCache(),
                options.maxNewTokens(), options.seed(), inputs, run);
    }

    static BenchmarkReport of(Mode mode, Api api, URI url, int concurrency, boolean useCache, Integer maxNewTokens, long seed,
            List<RequestInput> inputs, BenchmarkRunner.RunResult run) {
        List<RequestOutcome> outcomes = run.outcomes();
        Histogram latency = LatencySummary.newHistogram();
        Histogram generation = LatencySummary.newHistogram();
        Histogram clientOverhead = LatencySummary.newHistogram();
        Histogram serverOverhead = LatencySummary.newHistogram();
        Histogram queue = LatencySummary.newHistogram();
        Histogram firstPiece = LatencySummary.newHistogram();
        Map<String, Long> errors = new TreeMap<>();
        long successes = 0;
        long hits = 0;
        long tokens = 0;
        for (RequestOutcome outcome : outcomes) {
            if (!outcome.success()) {
                errors.merge(outcome.errorKey(), 1L, Long::sum);
                continue;
            }
            successes++;
            tokens += outcome.tokensGenerated();
            latency.recordValue(Math.max(0, outcome.latencyNanos()));
            if (outcome.firstPieceNanos() > 0) {
                firstPiece.recordValue(outcome.firstPieceNanos());
            }
            if (!api.reportsServerFigures()) {
                continue;
            }
            if (outcome.cacheHit()) {
                hits++;
                continue;
            }
            long generationNanos = secondsToNanos(outcome.generationTime());
            generation.recordValue(generationNanos);
            // clocks differ in resolution and the engine's time can round past the total: never below 0
            clientOverhead.recordValue(Math.max(0, outcome.latencyNanos() - generationNanos));
            serverOverhead.recordValue(Math.max(0, secondsToNanos(outcome.serverLatency()) - generationNanos));
            queue.recordValue(secondsToNanos(outcome.queueTime()));
        }
        Set<String> distinct = new HashSet<>();
        for (RequestInput input : inputs) {
            distinct.add(input.key());
        }
        double wallSeconds = run.wallNanos() / 1e9;
        return new BenchmarkReport(mode, api, url, outcomes.size(), concurrency, useCache, maxNewTokens, seed, wallSeconds,
                distinct.size(), successes, errors, LatencySummary.of(latency),
                wallSeconds > 0 ? successes / wallSeconds : 0,
                hits, successes > 0 ? (double) hits / successes : 0,
                successes > 0 ? (double) tokens / successes : 0,
                LatencySummary.of(generation), LatencySummary.of(clientOverhead), LatencySummary.of(serverOverhead),
                LatencySummary.of(queue), LatencySummary.of(firstPiece));
    }

    private static long secondsToNanos(double seconds) {
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            return 0;
        }
        return Math.round(seconds * 1e9);
    }
}
