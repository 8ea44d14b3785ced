package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkReportTest {

    private static final long MS = 1_000_000L;
    /** HdrHistogram at 3 significant digits reports a value within 0.1% of the recorded one. */
    private static final double REL = 1e-3;

    private static final URI URL = URI.create("http://localhost:8080/");

    private static BenchmarkReport report(List<RequestOutcome> outcomes, long wallNanos) {
        List<RequestInput> inputs = new MessagePicker(1).next(outcomes.size());
        return BenchmarkReport.of(Mode.CONCURRENT, Api.SEED, URL, 4, true, 32, 1, inputs,
                new BenchmarkRunner.RunResult(outcomes, wallNanos));
    }

    private static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * REL + 1e-12, () -> "expected " + expected + " got " + actual);
    }

    private static RequestOutcome miss(long latencyMs, double generationSeconds, double serverSeconds, int tokens) {
        return RequestOutcome.success(latencyMs * MS, false, tokens, serverSeconds, generationSeconds);
    }

    @Test
    void percentilesOfOneToAHundredMilliseconds() {
        List<RequestOutcome> outcomes = new ArrayList<>();
        for (int ms = 100; ms >= 1; ms--) { // order does not matter
            outcomes.add(RequestOutcome.success(ms * MS, false, 10, ms / 1000.0, 0));
        }
        LatencySummary l = report(outcomes, 5_000 * MS).latency();
        assertEquals(100, l.count());
        assertClose(0.050, l.p50());
        assertClose(0.095, l.p95());
        assertClose(0.099, l.p99());
        assertClose(0.0505, l.mean());
        assertClose(0.001, l.min());
        assertClose(0.100, l.max());
    }

    @Test
    void countsRatesErrorsAndTokens() {
        List<RequestOutcome> outcomes = List.of(
                miss(1000, 0.9, 0.95, 40),
                miss(1500, 1.2, 1.3, 60),
                RequestOutcome.success(20 * MS, true, 40, 0.005, 0),
                RequestOutcome.success(30 * MS, true, 60, 0.006, 0),
                RequestOutcome.httpError(503, 2 * MS),
                RequestOutcome.httpError(503, 3 * MS),
                RequestOutcome.httpError(504, 30_000 * MS),
                RequestOutcome.failed(0, RequestOutcome.TIMEOUT, 60_000 * MS),
                RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, 5 * MS));
        BenchmarkReport r = report(outcomes, 2_000 * MS);

        assertEquals(9, r.requests());
        assertEquals(4, r.successes());
        assertEquals(5, r.failures());
        assertEquals(Map.of("503", 2L, "504", 1L, "timeout", 1L, "invalid_response", 1L), r.errors());
        assertEquals(List.of("503", "504", "invalid_response", "timeout"), List.copyOf(r.errors().keySet()));
        assertEquals(2.0, r.wallSeconds(), 1e-9);
        assertEquals(2.0, r.throughput(), 1e-9);      // 4 successful in 2 s
        assertEquals(4.5, r.requestRate(), 1e-9);     // 9 of any kind in 2 s
        assertEquals(2, r.cacheHits());
        assertEquals(0.5, r.cacheHitRate(), 1e-12);
        assertEquals(50.0, r.meanTokens(), 1e-12);    // (40 + 60 + 40 + 60) / 4
        assertEquals(4, r.latency().count());         // errors are not in the latency percentiles
        assertClose(1.5, r.latency().max());
    }

    @Test
    void overheadIsLatencyMinusGenerationTimeOfTheMisses() {
        List<RequestOutcome> outcomes = List.of(
                RequestOutcome.success(1000 * MS, false, 10, 0.950, 0.900, 0.040), // client 100 ms, server 50 ms
                RequestOutcome.success(2000 * MS, false, 10, 1.820, 1.800, 0.010), // client 200 ms, server 20 ms
                RequestOutcome.success(500 * MS, false, 10, 0.230, 0.200, 0.020),  // client 300 ms, server 30 ms
                RequestOutcome.success(5 * MS, true, 10, 0.004, 0)); // hits have no engine time: left out
        BenchmarkReport r = report(outcomes, 4_000 * MS);

        assertEquals(3, r.clientOverhead().count());
        assertClose(0.200, r.clientOverhead().p50());
        assertClose(0.300, r.clientOverhead().p95());
        assertClose(0.030, r.serverOverhead().p50());
        assertClose(0.050, r.serverOverhead().p95());
        assertEquals(3, r.queue().count());
        assertClose(0.020, r.queue().p50());
        assertClose(0.040, r.queue().p95());
        assertEquals(3, r.generation().count());
        assertClose(0.900, r.generation().p50());
        assertClose(1.800, r.generation().p95());
    }

    @Test
    void overheadNeverGoesBelowZero() {
        // the service's generation_time can round past what the client measured
        BenchmarkReport r = report(List.of(miss(100, 0.1004, 0.1, 5)), 100 * MS);
        assertEquals(0.0, r.clientOverhead().p50());
        assertEquals(0.0, r.serverOverhead().p50());
    }

    @Test
    void slaIsP95UnderTwoSeconds() {
        List<RequestOutcome> fast = new ArrayList<>();
        List<RequestOutcome> slow = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            fast.add(miss(i < 95 ? 500 : 5000, 0.4, 0.45, 10));  // P95 = 0.5 s, P99 = 5 s
            slow.add(miss(i < 94 ? 500 : 2100, 0.4, 0.45, 10));  // P95 = 2.1 s
        }
        assertTrue(report(fast, 10_000 * MS).meetsSla());
        assertFalse(report(slow, 10_000 * MS).meetsSla());
        List<RequestOutcome> exactlyTwo = List.of(miss(2000, 1.5, 1.6, 10));
        assertFalse(report(exactlyTwo, 2_000 * MS).meetsSla(), "2 s is not under 2 s");
    }

    @Test
    void nothingSucceeded() {
        BenchmarkReport r = report(List.of(RequestOutcome.failed(0, RequestOutcome.CONNECTION, MS)), MS);
        assertEquals(0, r.successes());
        assertEquals(LatencySummary.EMPTY, r.latency());
        assertEquals(0.0, r.cacheHitRate());
        assertEquals(0.0, r.meanTokens());
        assertFalse(r.meetsSla());
        assertTrue(ReportText.render(r).contains("P95 < 2 s: no"));
        assertTrue(ReportText.render(r).contains("no successful request"));
    }

    @Test
    void textReportCarriesEveryFigure() {
        BenchmarkReport r = report(List.of(miss(1000, 0.9, 0.95, 40), RequestOutcome.success(20 * MS, true, 40, 0.01, 0),
                RequestOutcome.httpError(503, MS)), 2_000 * MS);
        String text = ReportText.render(r);
        assertTrue(text.contains("concurrent, 3 requests at concurrency 4, cache on, max_new_tokens 32"), text);
        assertTrue(text.contains("Succeeded:        2 of 3 in 2.00 s"), text);
        assertTrue(text.contains("Throughput:       1.00 req/s successful"), text);
        assertTrue(text.contains("P50 "), text);
        assertTrue(text.contains("Errors:           503: 1"), text);
        assertTrue(text.contains("Cache hit rate:   50.0% (1 of 2 successful)"), text);
        assertTrue(text.contains("Mean tokens:      40.0"), text);
        assertTrue(text.contains("seen by client: P50 100.0 ms"), text);
        assertTrue(text.contains("in the service: P50 50.0 ms"), text);
        assertTrue(text.contains("of which queued: P50 0.0 ms"), text);
        assertTrue(text.contains("P95 < 2 s: yes (over the 2 successful requests; 1 failed)"), text);
    }

    @Test
    void jsonReportRoundTrips() {
        BenchmarkReport r = report(List.of(miss(1000, 0.9, 0.95, 40), RequestOutcome.httpError(504, MS)), 1_000 * MS);
        StringWriter out = new StringWriter();
        ReportJson.write(r, Instant.parse("2026-01-02T03:04:05Z"), out);
        JsonObject json = Json.createReader(new StringReader(out.toString())).readObject();
        assertEquals("concurrent", json.getString("benchmark"));
        assertEquals("2026-01-02T03:04:05Z", json.getString("started_at"));
        assertEquals(2, json.getInt("requests"));
        assertEquals(1, json.getInt("successful"));
        assertEquals(1, json.getJsonObject("errors").getInt("504"));
        assertEquals(32, json.getInt("max_new_tokens"));
        assertClose(1.0, json.getJsonObject("latency").getJsonNumber("p95").doubleValue());
        assertClose(0.1, json.getJsonObject("overhead_outside_engine").getJsonObject("client")
                .getJsonNumber("p50").doubleValue());
        assertTrue(json.getBoolean("meets_sla"));
        assertEquals(2.0, json.getJsonNumber("sla_p95_seconds").doubleValue());
    }

    @Test
    void overOpenAisApiCacheAndEngineFiguresAreNotMeasured() {
        List<RequestOutcome> outcomes = List.of(RequestOutcome.success(800 * MS, false, 30, 0, 0),
                RequestOutcome.success(1200 * MS, false, 50, 0, 0).withFirstPiece(100 * MS),
                RequestOutcome.httpError(503, MS));
        BenchmarkReport r = BenchmarkReport.of(Mode.SEQUENTIAL, Api.OPENAI, URL, 1, true, null, 1,
                new MessagePicker(1).next(outcomes.size()), new BenchmarkRunner.RunResult(outcomes, 2_000 * MS));
        assertEquals(2, r.successes());
        assertEquals(40.0, r.meanTokens());
        assertEquals(2, r.latency().count());
        assertEquals(1, r.firstPiece().count());
        assertEquals(0, r.generation().count(), "no engine times in OpenAI's reply");
        assertEquals(0, r.clientOverhead().count());

        String text = ReportText.render(r);
        assertTrue(text.contains("(OpenAI API)"), text);
        assertTrue(text.contains("Cache hit rate:   not measured"), text);
        assertTrue(text.contains("Overhead outside the engine: not measured"), text);
        assertTrue(text.contains("Mean tokens:      40.0"), text);

        StringWriter out = new StringWriter();
        ReportJson.write(r, Instant.parse("2026-01-02T03:04:05Z"), out);
        JsonObject json = Json.createReader(new StringReader(out.toString())).readObject();
        assertEquals("openai", json.getString("api"));
        assertTrue(json.isNull("cache_hit_rate") && json.isNull("cache_hits"), "not measured, rather than 0");
        assertTrue(json.isNull("generation_time") && json.isNull("overhead_outside_engine"));
        assertEquals(2, json.getJsonObject("latency").getInt("count"));
    }
}
