package org.therapeia.benchmark;

import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonGenerator;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The report as JSON ({@code --json FILE}): seconds throughout, field names in the seed's style
 * (snake case, {@code p95_latency}-like names under {@code latency}).
 */
public final class ReportJson {

    private static final JsonProvider JSON = JsonProvider.provider();

    private ReportJson() {
    }

    public static void write(BenchmarkReport r, Instant startedAt, Path file) throws IOException {
        toFile(file, out -> write(r, startedAt, out));
    }

    /** Writes {@code report} to {@code file} (its directories created), then a newline. */
    static void toFile(Path file, Consumer<Writer> report) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            report.accept(out);
            out.write('\n');
        }
    }

    /** A generator that indents, as people read the file too. */
    static JsonGenerator generator(Writer out) {
        return JSON.createGeneratorFactory(Map.of(JsonGenerator.PRETTY_PRINTING, true)).createGenerator(out);
    }

    /** {@code value} under {@code name}, or JSON null where it is unknown (null). */
    static void writeOrNull(JsonGenerator json, String name, Integer value) {
        if (value == null) {
            json.writeNull(name);
        } else {
            json.write(name, value);
        }
    }

    public static void write(BenchmarkReport r, Instant startedAt, Writer out) {
        JsonGenerator json = generator(out);
        json.writeStartObject();
        json.write("benchmark", r.mode().word());
        json.write("api", r.api().word());
        json.write("url", r.url().toString());
        json.write("started_at", startedAt.toString());
        json.write("requests", r.requests());
        json.write("concurrency", r.concurrency());
        json.write("use_cache", r.useCache());
        writeOrNull(json, "max_new_tokens", r.maxNewTokens());
        json.write("seed", r.seed());
        json.write("distinct_inputs", r.distinctInputs());
        json.write("wall_seconds", r.wallSeconds());
        json.write("successful", r.successes());
        json.write("failed", r.failures());
        json.writeStartObject("errors");
        r.errors().forEach(json::write);
        json.writeEnd();
        json.write("throughput", r.throughput());
        json.write("request_rate", r.requestRate());
        summary(json, "latency", r.latency());
        summary(json, "time_to_first_piece", r.firstPiece());
        if (r.api().reportsServerFigures()) {
            json.write("cache_hits", r.cacheHits());
            json.write("cache_hit_rate", r.cacheHitRate());
        } else { // not in the API's reply: not measured, rather than 0
            json.writeNull("cache_hits");
            json.writeNull("cache_hit_rate");
        }
        json.write("mean_tokens_generated", r.meanTokens());
        if (r.api().reportsServerFigures()) {
            summary(json, "generation_time", r.generation());
            json.writeStartObject("overhead_outside_engine");
            summary(json, "client", r.clientOverhead());
            summary(json, "server", r.serverOverhead());
            summary(json, "queue_time", r.queue());
            json.writeEnd();
        } else {
            json.writeNull("generation_time");
            json.writeNull("overhead_outside_engine");
        }
        json.write("sla_p95_seconds", BenchmarkReport.SLA_P95_SECONDS);
        json.write("meets_sla", r.meetsSla());
        json.writeEnd();
        json.flush();
    }

    static void summary(JsonGenerator json, String name, LatencySummary s) {
        json.writeStartObject(name);
        json.write("count", s.count());
        json.write("p50", s.p50());
        json.write("p95", s.p95());
        json.write("p99", s.p99());
        json.write("mean", s.mean());
        json.write("min", s.min());
        json.write("max", s.max());
        json.writeEnd();
    }
}
