package org.therapeia.benchmark;

import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/** The report as people read it (stdout). */
public final class ReportText {

    private ReportText() {
    }

    public static String render(BenchmarkReport r) {
        StringBuilder out = new StringBuilder();
        String setting = r.mode() == Mode.CONCURRENT
                ? r.requests() + " requests at concurrency " + r.concurrency()
                : r.requests() + " requests, one at a time";
        line(out, "Therapeia benchmark: %s, %s, cache %s, max_new_tokens %s", r.mode().word(), setting,
                r.useCache() ? "on" : "off", r.maxNewTokens() == null ? "service default" : r.maxNewTokens());
        line(out, "Service:          %s (%s API)", r.url(), r.api() == Api.OPENAI ? "OpenAI" : "seed");
        line(out, "Inputs:           %d distinct of %d (%d messages x %d contexts, Zipf s=%s, seed %d)",
                r.distinctInputs(), r.requests(), TherapeuticMessages.MESSAGES.size(),
                TherapeuticMessages.CONTEXTS.size(), trim(MessagePicker.DEFAULT_EXPONENT), r.seed());
        out.append('\n');
        line(out, "Succeeded:        %d of %d in %.2f s", r.successes(), r.requests(), r.wallSeconds());
        line(out, "Throughput:       %.2f req/s successful (%.2f req/s all outcomes)", r.throughput(),
                r.requestRate());
        LatencySummary l = r.latency();
        if (l.count() > 0) {
            line(out, "Latency (s):      P50 %.3f   P95 %.3f   P99 %.3f   mean %.3f   min %.3f   max %.3f",
                    l.p50(), l.p95(), l.p99(), l.mean(), l.min(), l.max());
        } else {
            line(out, "Latency (s):      no successful request");
        }
        LatencySummary f = r.firstPiece();
        if (f.count() > 0) {
            line(out, "First piece (s):  P50 %.3f   P95 %.3f   P99 %.3f   (time to the first token event, %d replies)",
                    f.p50(), f.p95(), f.p99(), f.count());
        }
        line(out, "Errors:           %s", errors(r.errors()));
        if (r.api().reportsServerFigures()) {
            line(out, "Cache hit rate:   %.1f%% (%d of %d successful)", 100 * r.cacheHitRate(), r.cacheHits(),
                    r.successes());
        } else {
            line(out, "Cache hit rate:   not measured (OpenAI's reply does not say; see therapeia_cache_hits_total)");
        }
        line(out, "Mean tokens:      %.1f generated per reply", r.meanTokens());
        LatencySummary g = r.generation();
        if (!r.api().reportsServerFigures()) {
            line(out, "Overhead outside the engine: not measured (OpenAI's reply has no engine times)");
        } else if (g.count() > 0) {
            line(out, "Engine time (s):  P50 %.3f   P95 %.3f   (metadata.generation_time, %d cache misses)",
                    g.p50(), g.p95(), g.count());
            LatencySummary c = r.clientOverhead();
            LatencySummary s = r.serverOverhead();
            line(out, "Overhead outside the engine (latency - generation_time, %d cache misses):", c.count());
            line(out, "  seen by client: P50 %.1f ms   P95 %.1f ms", 1000 * c.p50(), 1000 * c.p95());
            line(out, "  in the service: P50 %.1f ms   P95 %.1f ms", 1000 * s.p50(), 1000 * s.p95());
            LatencySummary q = r.queue();
            line(out, "  of which queued: P50 %.1f ms   P95 %.1f ms (metadata.queue_time)", 1000 * q.p50(),
                    1000 * q.p95());
        } else {
            line(out, "Overhead outside the engine: no successful cache miss to measure");
        }
        out.append('\n');
        String verdict = r.meetsSla() ? "yes" : "no";
        if (r.failures() > 0 && r.latency().count() > 0) {
            line(out, "P95 < 2 s: %s (over the %d successful requests; %d failed)", verdict, r.successes(),
                    r.failures());
        } else {
            line(out, "P95 < 2 s: %s", verdict);
        }
        return out.toString();
    }

    /** "none", or "503: 6, timeout: 1". */
    static String errors(Map<String, Long> errors) {
        if (errors.isEmpty()) {
            return "none";
        }
        StringJoiner joined = new StringJoiner(", ");
        errors.forEach((key, count) -> joined.add(key + ": " + count));
        return joined.toString();
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
