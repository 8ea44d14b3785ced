package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's whole path, command line to report, against {@link FakeTherapeiaService} on
 * loopback: what the report says must match what the service counted.
 */
class BenchmarkEndToEndTest {

    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = BenchmarkMain.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String[] args(String... args) {
        return args;
    }

    private static JsonObject readJson(Path file) throws IOException {
        try (Reader in = Files.newBufferedReader(file)) {
            return Json.createReader(in).readObject();
        }
    }

    @Test
    void concurrentRunReportsWhatTheServiceSaw() throws IOException {
        Path json = tmp.resolve("reports/concurrent.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(10, 1)) {
            Run run = run(Map.of(BenchmarkOptions.ADMIN_TOKEN_ENV, FakeTherapeiaService.ADMIN_TOKEN),
                    "--url", service.url().toString(), "concurrent", "--requests", "60", "--concurrency", "6",
                    "--cache", "on", "--max-new-tokens", "24", "--timeout", "10", "--wait-ready", "10",
                    "--clear-cache", "--json", json.toString());

            assertEquals(0, run.exit(), run.err());
            assertEquals(60, service.inference.get());
            assertEquals(6, service.refused.get());
            assertEquals(1, service.clears.get());
            assertEquals(24, service.maxNewTokensSeen.get());

            JsonObject report = readJson(json);
            assertEquals("concurrent", report.getString("benchmark"));
            assertEquals(60, report.getInt("requests"));
            assertEquals(6, report.getInt("concurrency"));
            assertEquals(54, report.getInt("successful"));
            assertEquals(6, report.getInt("failed"));
            assertEquals(Map.of("503", 6), Map.of("503", report.getJsonObject("errors").getInt("503")));
            assertEquals(1, report.getJsonObject("errors").size());
            assertEquals(service.hits.get(), report.getInt("cache_hits"));
            assertEquals(service.hits.get() / 54.0, report.getJsonNumber("cache_hit_rate").doubleValue(), 1e-9);
            assertEquals(FakeTherapeiaService.TOKENS, report.getJsonNumber("mean_tokens_generated").doubleValue());
            JsonObject generation = report.getJsonObject("generation_time");
            assertEquals(54 - service.hits.get(), generation.getInt("count"));
            assertEquals(FakeTherapeiaService.GENERATION_SECONDS, generation.getJsonNumber("p50").doubleValue(),
                    FakeTherapeiaService.GENERATION_SECONDS * 1e-3);
            JsonObject latency = report.getJsonObject("latency");
            assertEquals(54, latency.getInt("count"));
            assertTrue(latency.getJsonNumber("p50").doubleValue() <= latency.getJsonNumber("p95").doubleValue());
            assertTrue(latency.getJsonNumber("p95").doubleValue() <= latency.getJsonNumber("p99").doubleValue());
            double clientOverhead = report.getJsonObject("overhead_outside_engine").getJsonObject("client")
                    .getJsonNumber("p50").doubleValue();
            assertTrue(clientOverhead >= 0, "overhead " + clientOverhead);
            assertEquals(0.001, report.getJsonObject("overhead_outside_engine").getJsonObject("queue_time")
                    .getJsonNumber("p50").doubleValue(), 1e-5);
            assertTrue(report.getBoolean("meets_sla"));
            assertTrue(report.getJsonNumber("throughput").doubleValue() > 0);

            assertTrue(run.out().contains("Errors:           503: 6"), run.out());
            assertTrue(run.out().contains("Succeeded:        54 of 60"), run.out());
            assertTrue(run.out().contains("P95 < 2 s: yes (over the 54 successful requests; 6 failed)"), run.out());
            assertTrue(run.err().contains("[60/60] 100%"), run.err());
            assertTrue(run.err().contains("response cache cleared"), run.err());
        }
    }

    @Test
    void sequentialWithTheCacheOnHitsEveryRepeat() throws IOException {
        Path json = tmp.resolve("sequential.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "sequential", "--url", service.url().toString(), "--requests", "40",
                    "--seed", "3", "--json", json.toString());
            assertEquals(0, run.exit(), run.err());
            JsonObject report = readJson(json);
            int distinct = report.getInt("distinct_inputs");
            long expectedDistinct = new MessagePicker(3).next(40).stream().map(RequestInput::key).distinct().count();
            assertEquals(expectedDistinct, distinct);
            // one at a time: every repeat finds its first occurrence in the cache
            assertEquals(40 - distinct, service.hits.get());
            assertEquals(40 - distinct, report.getInt("cache_hits"));
            assertEquals(0, report.getJsonObject("errors").size());
            assertEquals(1, report.getInt("concurrency"));
        }
    }

    @Test
    void sendsTheApiKeyWhenGivenAndCountsThe401sWithout() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            service.requireApiKey();
            Run refused = run(Map.of(), "sequential", "--url", service.url().toString(), "--requests", "5");
            assertTrue(refused.out().contains("401"), refused.out());
            assertEquals(0, service.inference.get());
            Run served = run(Map.of(BenchmarkOptions.API_KEY_ENV, FakeTherapeiaService.API_KEY), "sequential", "--url",
                    service.url().toString(), "--requests", "5");
            assertEquals(0, served.exit(), served.err());
            assertEquals(5, service.inference.get());
        }
    }

    @Test
    void streamedRunReportsTheTimeToTheFirstPiece() throws IOException {
        Path json = tmp.resolve("streamed.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "concurrent", "--url", service.url().toString(), "--requests", "12",
                    "--concurrency", "3", "--stream", "--json", json.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(12, service.streamed.get());
            assertTrue(run.out().contains("First piece (s):"), run.out());
            assertTrue(run.out().contains("Succeeded:        12 of 12"), run.out());
            assertEquals(12, readJson(json).getJsonObject("time_to_first_piece").getInt("count"));
        }
    }

    @Test
    void cacheOffNeverHits() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "concurrent", "--url", service.url().toString(), "--requests", "30",
                    "--concurrency", "3", "--cache", "off");
            assertEquals(0, run.exit(), run.err());
            assertEquals(0, service.hits.get());
            assertTrue(run.out().contains("Cache hit rate:   0.0% (0 of 30 successful)"), run.out());
            assertTrue(run.out().contains("Overhead outside the engine (latency - generation_time, 30 cache misses)"),
                    run.out());
        }
    }

    @Test
    void waitsForReadinessAndGivesUp() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, Integer.MAX_VALUE)) {
            Run run = run(Map.of(), "sequential", "--url", service.url().toString(), "--requests", "1",
                    "--wait-ready", "1");
            assertEquals(BenchmarkMain.NOT_READY, run.exit());
            assertTrue(run.err().contains("not ready after 1 s (HTTP 503)"), run.err());
            assertEquals(0, service.inference.get());
        }
    }

    @Test
    void wrongAdminTokenStopsBeforeSending() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "sequential", "--url", service.url().toString(), "--clear-cache",
                    "--admin-token", "wrong");
            assertEquals(BenchmarkMain.NOT_READY, run.exit());
            assertTrue(run.err().contains("HTTP 401"), run.err());
            assertEquals(0, service.inference.get());
        }
    }

    @Test
    void nothingListeningIsCountedNotThrown() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Run run = run(Map.of(), "concurrent", "--url", "http://127.0.0.1:" + port, "--requests", "5",
                "--concurrency", "2", "--wait-ready", "0");
        assertEquals(BenchmarkMain.FAILED, run.exit());
        assertTrue(run.out().contains("Errors:           connection: 5"), run.out());
        assertTrue(run.out().contains("P95 < 2 s: no"), run.out());
    }

    @Test
    void usageAndHelp() {
        Run bad = run(Map.of(), "sideways");
        assertEquals(BenchmarkMain.USAGE, bad.exit());
        assertTrue(bad.err().contains("unknown command 'sideways'"), bad.err());
        Run help = run(Map.of(), "--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().startsWith("usage:"), help.out());
        List<String> options = new ArrayList<>(List.of("--url", "--requests", "--concurrency", "--cache",
                "--max-new-tokens", "--timeout", "--json"));
        options.removeIf(help.out()::contains);
        assertEquals(List.of(), options);
    }

    @Test
    void unwritableJsonFileFailsTheRun() throws IOException {
        Path blocker = Files.writeString(tmp.resolve("file"), "x");
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), args("sequential", "--url", service.url().toString(), "--requests", "2",
                    "--json", blocker.resolve("under-a-file.json").toString()));
            assertEquals(BenchmarkMain.FAILED, run.exit());
            assertTrue(run.err().contains("cannot write"), run.err());
            assertTrue(run.out().contains("Succeeded:        2 of 2"), run.out());
        }
    }

    @Test
    void overOpenAisApiTheSameRunReportsWhatTheServiceSaw() throws IOException {
        Path json = tmp.resolve("openai.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(10, 0)) {
            service.requireApiKey();
            Run run = run(Map.of(BenchmarkOptions.API_KEY_ENV, FakeTherapeiaService.API_KEY), "concurrent",
                    "--api", "openai", "--url", service.url().toString(), "--requests", "40", "--concurrency", "4",
                    "--max-new-tokens", "24", "--json", json.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(40, service.chatCompletions.get(), "every request went to /v1/chat/completions");
            assertEquals(24, service.maxNewTokensSeen.get());
            assertTrue(service.seedsSeen.isEmpty(), "the cache on: no seeds");
            assertTrue(service.hits.get() > 0, "repeats were answered from the cache");
            assertTrue(run.err().contains("/v1/chat/completions (model " + FakeTherapeiaService.MODEL + ")"),
                    run.err());
            JsonObject report = readJson(json);
            assertEquals("openai", report.getString("api"));
            assertEquals(36, report.getInt("successful"));
            assertEquals(4, report.getJsonObject("errors").getInt("503"));
            assertEquals(FakeTherapeiaService.TOKENS, report.getJsonNumber("mean_tokens_generated").doubleValue());
            assertTrue(report.isNull("cache_hit_rate"), "OpenAI's reply does not say");
            assertTrue(run.out().contains("Cache hit rate:   not measured"), run.out());
        }
    }

    @Test
    void overOpenAisApiAStreamedRunReadsTheChunks() throws IOException {
        Path json = tmp.resolve("openai-streamed.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "sequential", "--api", "openai", "--stream", "--url", service.url().toString(),
                    "--requests", "6", "--json", json.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(6, service.streamed.get());
            JsonObject report = readJson(json);
            assertEquals(6, report.getInt("successful"), run.out());
            assertEquals(6, report.getJsonObject("time_to_first_piece").getInt("count"));
            assertEquals(FakeTherapeiaService.TOKENS, report.getJsonNumber("mean_tokens_generated").doubleValue(),
                    "from the usage chunk");
        }
    }

    @Test
    void overOpenAisApiTheCacheOffSendsEachRequestASeedOfItsOwn() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            for (int i = 0; i < 2; i++) { // the same workload twice: the rerun is no more a hit than the run
                Run run = run(Map.of(), "concurrent", "--api", "openai", "--url", service.url().toString(),
                        "--requests", "30", "--concurrency", "3", "--cache", "off");
                assertEquals(0, run.exit(), run.err());
            }
            assertEquals(60, service.seedsSeen.size());
            assertEquals(0, service.hits.get());
        }
    }

    @Test
    void overOpenAisApiAWrongModelIsCountedAndAMissingKeyStopsBeforeSending() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run wrong = run(Map.of(), "sequential", "--api", "openai", "--model", "gpt-4o", "--url",
                    service.url().toString(), "--requests", "3");
            assertEquals(BenchmarkMain.FAILED, wrong.exit());
            assertTrue(wrong.out().contains("Errors:           404: 3"), wrong.out());
            service.requireApiKey();
            Run unauthorized = run(Map.of(), "sequential", "--api", "openai", "--url", service.url().toString(),
                    "--requests", "3");
            assertEquals(BenchmarkMain.NOT_READY, unauthorized.exit());
            assertTrue(unauthorized.err().contains("HTTP 401 (wrong API key?)"), unauthorized.err());
            assertEquals(0, service.chatCompletions.get());
        }
    }

    @Test
    void conversationsOverTheSeedApiGrowTheirHistoryWithTheReplies() throws IOException {
        Path json = tmp.resolve("conversation.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "conversation", "--url", service.url().toString(), "--conversations", "4",
                    "--turns", "5", "--concurrency", "2", "--max-new-tokens", "16", "--json", json.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(20, service.inference.get());
            assertEquals(0, service.historyMismatches.get(), "every history holds the replies the service gave");
            assertEquals(8, service.longestHistory.get(), "turn 5 carries 4 exchanges");
            assertEquals(20, service.withSystemPrompt.get(), "every turn resends the system prompt");
            assertEquals(20, service.greedy.get());
            assertEquals(0, service.hits.get(), "the response cache off by default");
            assertEquals(16, service.maxNewTokensSeen.get());

            JsonObject report = readJson(json);
            assertEquals("conversation", report.getString("benchmark"));
            assertEquals(20, report.getInt("successful"));
            assertEquals("service", report.getString("time_to_first_token_source"));
            JsonObject first = report.getJsonArray("per_turn").getJsonObject(0);
            JsonObject last = report.getJsonArray("per_turn").getJsonObject(4);
            int system = FakeTherapeiaService.SYSTEM_TOKENS;
            int message = FakeTherapeiaService.MESSAGE_TOKENS;
            assertEquals(4 * (system + message), first.getInt("prompt_tokens"));
            assertEquals(0, first.getInt("reused_tokens"));
            assertEquals(4 * (system + 9 * message), last.getInt("prompt_tokens"));
            assertEquals(4 * message, last.getInt("computed_tokens"), "only the new message is computed");
            assertEquals(FakeTherapeiaService.TIME_TO_FIRST_TOKEN,
                    last.getJsonObject("time_to_first_token").getJsonNumber("p50").doubleValue(), 1e-5);
            assertEquals(4, last.getJsonObject("latency").getInt("count"));

            assertTrue(run.out().contains("4 conversations x 5 turns at concurrency 2"), run.out());
            assertTrue(run.out().contains("| 5 | 4 | 2 | 2 |"), run.out());
            assertTrue(run.out().contains("| " + 4 * (system + 9 * message) + " | " + 4 * message + " | "), run.out());
            assertTrue(run.err().contains("[20/20] 100%"), run.err());
        }
    }

    @Test
    void conversationsOverOpenAisApiStreamedReadTheCachedTokensAndTheFirstPiece() throws IOException {
        Path json = tmp.resolve("conversation-openai.json");
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "conversation", "--api", "openai", "--stream", "--url", service.url().toString(),
                    "--conversations", "3", "--turns", "3", "--json", json.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(9, service.streamed.get());
            assertEquals(0, service.historyMismatches.get(), "the streamed replies, joined, went back as history");
            assertEquals(4, service.longestHistory.get());
            assertEquals(9, service.withSystemPrompt.get(), "a system message first");
            JsonObject report = readJson(json);
            assertEquals("client", report.getString("time_to_first_token_source"));
            JsonObject third = report.getJsonArray("per_turn").getJsonObject(2);
            assertEquals(3, third.getJsonObject("time_to_first_token").getInt("count"));
            assertEquals(3 * FakeTherapeiaService.MESSAGE_TOKENS, third.getInt("computed_tokens"),
                    "usage.prompt_tokens_details.cached_tokens");
        }
    }

    @Test
    void conversationsOverOpenAisApiWithoutStreamingHaveNoTimeToFirstToken() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(0, 0)) {
            Run run = run(Map.of(), "conversation", "--api", "openai", "--url", service.url().toString(),
                    "--conversations", "2", "--turns", "2");
            assertEquals(0, run.exit(), run.err());
            assertEquals(0, service.historyMismatches.get());
            assertEquals(2, service.longestHistory.get());
            assertTrue(run.out().contains("TTFT:             not measured"), run.out());
            assertTrue(run.out().contains("| 2 | 2 | - | - |"), run.out());
        }
    }

    @Test
    void aFailedTurnEndsItsConversationAndTheRestGoOn() throws IOException {
        try (FakeTherapeiaService service = new FakeTherapeiaService(7, 0)) {
            // one at a time, request 7 is conversation 1's third turn
            Run run = run(Map.of(), "conversation", "--url", service.url().toString(), "--conversations", "3",
                    "--turns", "4", "--concurrency", "1");
            assertEquals(0, run.exit(), run.err());
            assertEquals(11, service.inference.get(), "conversation 1's fourth turn was not sent");
            assertTrue(run.out().contains("Succeeded:        10 of 11 turns sent"), run.out());
            assertTrue(run.out().contains("(1 not sent: their conversation had failed)"), run.out());
            assertTrue(run.out().contains("Errors:           503: 1"), run.out());
            assertTrue(run.out().contains("| 4 | 2 |"), run.out());
            assertTrue(run.err().contains("[12/12] 100%"), run.err());
        }
    }

    @Test
    void conversationsWithNothingListeningEndAtTheirFirstTurn() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Run run = run(Map.of(), "conversation", "--url", "http://127.0.0.1:" + port, "--conversations", "2",
                "--turns", "3", "--wait-ready", "0");
        assertEquals(BenchmarkMain.FAILED, run.exit());
        assertTrue(run.out().contains("Succeeded:        0 of 2 turns sent"), run.out());
        assertTrue(run.out().contains("(4 not sent: their conversation had failed)"), run.out());
        assertTrue(run.out().contains("| 1 | 0 | - | - | - | - | - | - | - |"), run.out());
    }
}
