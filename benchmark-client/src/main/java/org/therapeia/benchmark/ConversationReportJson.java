package org.therapeia.benchmark;

import jakarta.json.stream.JsonGenerator;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A conversation run's report as JSON ({@code --json FILE}): seconds throughout, one object per
 * turn index under {@code per_turn}; token counts the service did not report are {@code null}.
 */
public final class ConversationReportJson {

    private ConversationReportJson() {
    }

    public static void write(ConversationReport r, Instant startedAt, Path file) throws IOException {
        ReportJson.toFile(file, out -> write(r, startedAt, out));
    }

    public static void write(ConversationReport r, Instant startedAt, Writer out) {
        JsonGenerator json = ReportJson.generator(out);
        json.writeStartObject();
        json.write("benchmark", Mode.CONVERSATION.word());
        json.write("api", r.api().word());
        json.write("url", r.url().toString());
        json.write("started_at", startedAt.toString());
        json.write("conversations", r.conversations());
        json.write("turns", r.turns());
        json.write("concurrency", r.concurrency());
        json.write("use_cache", r.useCache());
        ReportJson.writeOrNull(json, "max_new_tokens", r.maxNewTokens());
        json.write("stream", r.stream());
        json.write("wall_seconds", r.wallSeconds());
        json.write("sent", r.sent());
        json.write("successful", r.successes());
        json.write("failed", r.sent() - r.successes());
        json.write("not_sent", r.notSent());
        json.writeStartObject("errors");
        r.errors().forEach(json::write);
        json.writeEnd();
        json.write("time_to_first_token_source", r.firstToken().word());
        json.writeStartArray("per_turn");
        for (ConversationReport.TurnSummary turn : r.perTurn()) {
            json.writeStartObject();
            turn(json, turn);
            json.writeEnd();
        }
        json.writeEnd();
        json.writeStartObject("all");
        turn(json, r.all());
        json.writeEnd();
        json.writeEnd();
        json.flush();
    }

    private static void turn(JsonGenerator json, ConversationReport.TurnSummary t) {
        if (t.turn() > 0) {
            json.write("turn", t.turn());
        }
        json.write("successful", t.successes());
        if (t.firstToken().count() > 0) {
            ReportJson.summary(json, "time_to_first_token", t.firstToken());
        } else {
            json.writeNull("time_to_first_token");
        }
        ReportJson.summary(json, "latency", t.latency());
        tokens(json, "prompt_tokens", t.promptTokens());
        tokens(json, "computed_tokens", t.computedTokens());
        tokens(json, "reused_tokens", t.reusedTokens());
    }

    private static void tokens(JsonGenerator json, String name, long count) {
        if (count < 0) {
            json.writeNull(name);
        } else {
            json.write(name, count);
        }
    }
}
