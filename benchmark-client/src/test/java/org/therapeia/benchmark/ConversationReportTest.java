package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-turn arithmetic of a conversation run, and how its text and JSON say it. */
class ConversationReportTest {

    private static final long MS = 1_000_000L;

    private static BenchmarkOptions options(String... extra) throws UsageException {
        List<String> args = new ArrayList<>(List.of("conversation", "--conversations", "2", "--turns", "2"));
        args.addAll(List.of(extra));
        return BenchmarkOptions.parse(args.toArray(String[]::new), Map.of());
    }

    private static ConversationRunner.TurnOutcome turn(int conversation, int turn, long latencyMs, double ttft,
            int prompt, int reused) {
        return new ConversationRunner.TurnOutcome(conversation, turn, RequestOutcome.success(latencyMs * MS, false,
                8, 0, 0).withReply("r", prompt, reused, ttft));
    }

    /** Two conversations of two turns: the second turns reuse the first turns' prompts. */
    private static ConversationReport twoByTwo(String... extra) throws UsageException {
        return ConversationReport.of(options(extra), new ConversationRunner.RunResult(List.of(
                turn(0, 1, 100, 0.050, 120, 0), turn(0, 2, 110, 0.020, 160, 140),
                turn(1, 1, 300, 0.150, 120, 100), turn(1, 2, 130, 0.030, 170, 140)), 0, 2_000 * MS));
    }

    @Test
    void summarisesEachTurnIndex() throws UsageException {
        ConversationReport r = twoByTwo();
        assertEquals(ConversationReport.FirstTokenSource.SERVICE, r.firstToken());
        assertEquals(2, r.perTurn().size());
        ConversationReport.TurnSummary first = r.perTurn().get(0);
        assertEquals(1, first.turn());
        assertEquals(2, first.successes());
        assertEquals(0.050, first.firstToken().p50(), 0.050 * 1e-3);
        assertEquals(0.150, first.firstToken().p95(), 0.150 * 1e-3);
        assertEquals(0.300, first.latency().p95(), 0.300 * 1e-3);
        assertEquals(240, first.promptTokens());
        assertEquals(100, first.reusedTokens());
        assertEquals(140, first.computedTokens());
        ConversationReport.TurnSummary second = r.perTurn().get(1);
        assertEquals(330, second.promptTokens());
        assertEquals(280, second.reusedTokens());
        assertEquals(50, second.computedTokens());
        assertEquals(570, r.all().promptTokens());
        assertEquals(4, r.all().successes());
        assertEquals(4, r.sent());
        assertEquals(2.0, r.wallSeconds(), 1e-9);
    }

    @Test
    void failuresAreCountedNotTimedAndMissingTokenCountsAreUnknown() throws UsageException {
        ConversationReport r = ConversationReport.of(options(), new ConversationRunner.RunResult(List.of(
                turn(0, 1, 100, 0.05, 120, 0),
                new ConversationRunner.TurnOutcome(0, 2, RequestOutcome.failed(0, RequestOutcome.TIMEOUT, 9000 * MS)),
                new ConversationRunner.TurnOutcome(1, 1, RequestOutcome.success(200 * MS, false, 8, 0, 0)
                        .withReply("r", -1, -1, 0.07)),
                turn(1, 2, 130, 0.03, 170, 140)), 0, MS));
        assertEquals(Map.of("timeout", 1L), r.errors());
        assertEquals(3, r.successes());
        assertEquals(1, r.perTurn().get(1).successes());
        assertEquals(0.130, r.perTurn().get(1).latency().max(), 0.130 * 1e-3, "the timeout is not timed");
        assertEquals(-1, r.perTurn().get(0).promptTokens(), "one reply did not say: unknown, not too small");
        assertEquals(-1, r.perTurn().get(0).computedTokens());
        assertEquals(170, r.perTurn().get(1).promptTokens());
    }

    @Test
    void theFirstTokenComesFromWhereTheApiReportsIt() throws UsageException {
        assertEquals(ConversationReport.FirstTokenSource.SERVICE, ConversationReport.FirstTokenSource.of(Api.SEED, false));
        assertEquals(ConversationReport.FirstTokenSource.SERVICE, ConversationReport.FirstTokenSource.of(Api.SEED, true));
        assertEquals(ConversationReport.FirstTokenSource.CLIENT, ConversationReport.FirstTokenSource.of(Api.OPENAI, true));
        assertEquals(ConversationReport.FirstTokenSource.NONE, ConversationReport.FirstTokenSource.of(Api.OPENAI, false));

        ConversationReport openAi = twoByTwo("--api", "openai");
        assertEquals(0, openAi.perTurn().get(0).firstToken().count(), "not measured");
        String text = ConversationReportText.render(openAi);
        assertTrue(text.contains("| 1 | 2 | - | - | 100 | 300 | 240 | 140 | 100 |"), text);
        assertTrue(text.contains("not measured"), text);
    }

    @Test
    void theTextIsThePythonScriptsTable() throws UsageException {
        String text = ConversationReportText.render(twoByTwo());
        assertTrue(text.contains("2 conversations x 2 turns at concurrency 4, cache off, temperature 0"), text);
        assertTrue(text.contains("| turn | n | TTFT P50 (ms) | TTFT P95 (ms) | latency P50 (ms) | latency P95 (ms) "
                + "| prompt tokens | computed | reused |"), text);
        assertTrue(text.contains("| 1 | 2 | 50 | 150 | 100 | 300 | 240 | 140 | 100 |"), text);
        assertTrue(text.contains("| 2 | 2 | 20 | 30 | 110 | 130 | 330 | 50 | 280 |"), text);
        assertTrue(text.contains("| all | 4 | 30 | 150 | 110 | 300 | 570 | 190 | 380 |"), text);
        assertTrue(text.contains("TTFT P50 turn 2 / turn 1: 0.40"), text);
        assertTrue(text.contains("Errors:           none"), text);
    }

    @Test
    void theJsonHasOneObjectPerTurn() throws UsageException {
        StringWriter out = new StringWriter();
        ConversationReportJson.write(twoByTwo("--max-new-tokens", "32"), Instant.EPOCH, out);
        JsonObject json = Json.createReader(new StringReader(out.toString())).readObject();
        assertEquals("conversation", json.getString("benchmark"));
        assertEquals(2, json.getInt("conversations"));
        assertEquals(32, json.getInt("max_new_tokens"));
        assertEquals("service", json.getString("time_to_first_token_source"));
        JsonObject second = json.getJsonArray("per_turn").getJsonObject(1);
        assertEquals(2, second.getInt("turn"));
        assertEquals(280, second.getInt("reused_tokens"));
        assertEquals(50, second.getInt("computed_tokens"));
        assertEquals(0.020, second.getJsonObject("time_to_first_token").getJsonNumber("p50").doubleValue(), 0.02e-3);
        assertEquals(570, json.getJsonObject("all").getInt("prompt_tokens"));
    }
}
