package org.therapeia.benchmark;

import static org.therapeia.benchmark.ReportText.line;

import java.util.Locale;

/**
 * A conversation run's report as people read it (stdout): the per-turn table in the shape
 * bench/conversation_benchmark.py prints (milliseconds, markdown), so that the two compare.
 */
public final class ConversationReportText {

    private ConversationReportText() {
    }

    public static String render(ConversationReport r) {
        StringBuilder out = new StringBuilder();
        line(out, "Therapeia conversation benchmark: %d conversations x %d turns at concurrency %d, cache %s, "
                + "temperature 0, max_new_tokens %s, %s", r.conversations(), r.turns(), r.concurrency(),
                r.useCache() ? "on" : "off", r.maxNewTokens() == null ? "service default" : r.maxNewTokens(),
                r.stream() ? "streamed" : "not streamed");
        line(out, "Service:          %s (%s API)", r.url(), r.api() == Api.OPENAI ? "OpenAI" : "seed");
        line(out, "Succeeded:        %d of %d turns sent in %.2f s%s", r.successes(), r.sent(), r.wallSeconds(),
                r.notSent() > 0 ? " (" + r.notSent() + " not sent: their conversation had failed)" : "");
        line(out, "Errors:           %s", ReportText.errors(r.errors()));
        line(out, "TTFT:             %s", r.firstToken().description());
        out.append('\n');
        line(out, "| turn | n | TTFT P50 (ms) | TTFT P95 (ms) | latency P50 (ms) | latency P95 (ms) "
                + "| prompt tokens | computed | reused |");
        line(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (ConversationReport.TurnSummary turn : r.perTurn()) {
            row(out, Integer.toString(turn.turn()), turn);
        }
        row(out, "all", r.all());
        ConversationReport.TurnSummary first = r.perTurn().isEmpty() ? null : r.perTurn().get(0);
        ConversationReport.TurnSummary last = r.perTurn().isEmpty() ? null : r.perTurn().get(r.perTurn().size() - 1);
        if (first != null && last != first && first.firstToken().count() > 0 && last.firstToken().count() > 0
                && first.firstToken().p50() > 0) {
            out.append('\n');
            line(out, "TTFT P50 turn %d / turn 1: %.2f", last.turn(), last.firstToken().p50() / first.firstToken().p50());
        }
        return out.toString();
    }

    private static void row(StringBuilder out, String label, ConversationReport.TurnSummary t) {
        LatencySummary f = t.firstToken();
        LatencySummary l = t.latency();
        line(out, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |", label, t.successes(), ms(f, f.p50()),
                ms(f, f.p95()), ms(l, l.p50()), ms(l, l.p95()), tokens(t.promptTokens()),
                tokens(t.computedTokens()), tokens(t.reusedTokens()));
    }

    private static String ms(LatencySummary summary, double seconds) {
        return summary.count() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", seconds * 1000);
    }

    private static String tokens(long count) {
        return count < 0 ? "-" : Long.toString(count);
    }
}
