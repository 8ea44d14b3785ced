package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.therapeia.NativePrerequisites;
import org.therapeia.TestConfig;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceResponse;
import org.therapeia.cache.CacheKey;
import org.therapeia.cache.CachedReply;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;
import org.therapeia.engine.SamplingParams;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.metrics.ServiceMetrics;
import org.therapeia.config.SafetyConfig;
import org.therapeia.safety.NoSafetyMetrics;
import org.therapeia.safety.SafetyService;

/**
 * The whole inference path outside a container: the default model (scripts/make-default-model.py,
 * built by Maven into target/default-model), its tokenizer and chat template, the real engine and
 * scheduler. The response cache is a map here (ResponseCacheTest covers the Hazelcast one) and the
 * MicroProfile metrics are left out. Its greedy replies are those of Hugging Face transformers
 * (src/test/python/greedy_replies.py, run by Maven before the tests).
 */
class InferenceServiceTest {

    private static ModelRuntime runtime;
    private static InferenceService service;
    private static LatencyTracker tracker;
    private static InferenceConfig config;
    private static NoSafetyMetrics safetyMetrics;

    /** A JCache stand-in with the same contract. */
    static final class MapCache extends ResponseCache {
        final Map<CacheKey, CachedReply> map = new HashMap<>();

        @Override
        public synchronized Optional<CachedReply> get(CacheKey key) {
            return Optional.ofNullable(map.get(key));
        }

        @Override
        public synchronized void put(CacheKey key, CachedReply reply) {
            map.put(key, reply);
        }

        @Override
        public synchronized long clear() {
            long n = map.size();
            map.clear();
            return n;
        }

        @Override
        public synchronized long size() {
            return map.size();
        }
    }

    /** No MetricRegistry outside the container. */
    static final class NoMetrics extends ServiceMetrics {
        @Override
        public void requestCompleted(long nanos, boolean cacheHit) {
        }

        @Override
        public void generationSpeed(int tokens, long generationNanos) {
        }

        @Override
        public void cacheLookup(boolean hit) {
        }

        @Override
        public void error(String kind) {
        }

        @Override
        public void onStep(int batch, int tokens, long nanos) {
        }

        @Override
        public void firstToken(long nanos) {
        }

        @Override
        public void onPromptTokens(int reused, int computed) {
        }
    }

    @BeforeAll
    static void start() {
        NativePrerequisites.engineLibrary();
        NativePrerequisites.defaultModel();
        String model = System.getProperty("therapeia.test.model");
        config = TestConfig.inference(Map.of("MODEL_PATH", model, "WARMUP_REQUESTS", "3", "BATCH_SIZE", "4",
                "MAX_NEW_TOKENS", "24", "MAX_CONTEXT_LENGTH", "512", "ENGINE_THREADS", "1"));
        NoMetrics metrics = new NoMetrics();
        runtime = new ModelRuntime(config, metrics);
        assertThrows(NotReadyException.class, runtime::ready);
        runtime.load(Executors.defaultThreadFactory());
        assertEquals(ModelRuntime.State.READY, runtime.state(), String.valueOf(runtime.failure()));
        tracker = new LatencyTracker(Duration.ofMinutes(5), System::nanoTime);
        safetyMetrics = new NoSafetyMetrics();
        SafetyService safety = new SafetyService(new SafetyConfig(TestConfig.config(Map.of())), safetyMetrics);
        safety.start();
        service = new InferenceService(config, runtime, new MapCache(), tracker, metrics, safety);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.stop();
        }
    }

    private static InferenceRequest request(String input, boolean useCache, Double temperature, Long seed) {
        return new InferenceRequest(input, List.of(), null, useCache, null, temperature, null, null, null, seed);
    }

    private static InferenceResponse infer(InferenceRequest r) throws Exception {
        return service.infer(r, System.nanoTime()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Test
    void seedExampleThenACacheHitWithTheSameReply() throws Exception {
        InferenceRequest seedExample = request("I've been feeling anxious lately.", true, null, null);
        InferenceResponse first = infer(seedExample);
        assertNotNull(first.response());
        assertFalse(first.cacheHit());
        assertTrue(first.tokensGenerated() >= 1 && first.tokensGenerated() <= 24);
        assertTrue(first.latency() > 0);
        assertTrue(first.metadata().inputTokens() > 5);
        assertTrue(first.metadata().generationTime() > 0);
        assertEquals(config.modelId(), first.metadata().model());

        InferenceResponse second = infer(request("I've been feeling anxious lately.", true, null, null));
        assertTrue(second.cacheHit());
        assertEquals(first.response(), second.response());
        assertEquals(first.tokensGenerated(), second.tokensGenerated());
        // other spacing is other tokens to the model, so another entry (CacheKey)
        assertFalse(infer(request("  I've been feeling   anxious lately. ", true, null, null)).cacheHit());

        assertFalse(infer(request("I've been feeling anxious lately.", false, null, null)).cacheHit());
        assertTrue(tracker.snapshot().totalRequests() >= 3);
    }

    /** transformers' greedy replies with the default model (src/test/python/greedy_replies.py). */
    static List<Arguments> transformersGreedyReplies() throws IOException {
        NativePrerequisites.defaultModelReplies();
        try (JsonReader reader = Json.createReader(new StringReader(
                Files.readString(Path.of(System.getProperty("therapeia.test.model.replies")))))) {
            return reader.readObject().getJsonArray("cases").getValuesAs(JsonObject.class).stream()
                    .map(c -> Arguments.of(c.getString("name"), c)).toList();
        }
    }

    /**
     * The service's greedy reply is transformers' own, token for token: the chat template (Jinjava
     * against Python Jinja), the tokenizer (DJL against transformers) and the engine (against
     * transformers' generate, repetition penalty included) agree on the trained default model.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("transformersGreedyReplies")
    void greedyRepliesAreTransformersOwn(String name, JsonObject expected) throws Exception {
        List<ChatMessage> history = expected.getJsonArray("history").getValuesAs(JsonObject.class).stream()
                .map(m -> new ChatMessage(m.getString("role"), m.getString("content"))).toList();
        InferenceResponse reply = infer(new InferenceRequest(expected.getString("user_input"), history,
                expected.getString("system_prompt"), false, expected.getInt("max_new_tokens"), 0.0, 1.0, 0,
                expected.getJsonNumber("repetition_penalty").doubleValue(), null));
        String context = name + " (transformers' smallest lead of the chosen token: "
                + expected.getJsonNumber("smallest_lead") + ")";
        assertEquals(expected.getInt("input_tokens"), reply.metadata().inputTokens(), "prompt tokens: " + context);
        assertEquals(expected.getString("response"), reply.response(), context);
        assertEquals(expected.getJsonArray("reply_tokens").size(), reply.tokensGenerated(), context);
        assertEquals(expected.getString("finish_reason"), reply.metadata().finishReason(), context);
    }

    @Test
    void sameSeedSameReply() throws Exception {
        InferenceResponse a = infer(request("Tell me something calming.", false, 0.9, 42L));
        InferenceResponse b = infer(request("Tell me something calming.", false, 0.9, 42L));
        assertEquals(a.response(), b.response());
        assertEquals(a.tokensGenerated(), b.tokensGenerated());
    }

    /** Unseeded sampled replies share one entry, which no chosen seed reads, -1 included. */
    @Test
    void anUnseededReplyIsNeverServedForAChosenSeed() throws Exception {
        String input = "What helps when the evenings feel long?";
        assertFalse(infer(request(input, true, 0.9, null)).cacheHit());
        assertTrue(infer(request(input, true, 0.9, null)).cacheHit(), "unseeded replies share an entry");
        for (long seed : new long[] {-1L, 0L, Long.MAX_VALUE}) {
            assertFalse(infer(request(input, true, 0.9, seed)).cacheHit(), "seed " + seed);
            assertTrue(infer(request(input, true, 0.9, seed)).cacheHit(), "seed " + seed + " again");
        }
    }

    @Test
    void historyIsUsedWithinTheWindow() throws Exception {
        List<ChatMessage> history = List.of(new ChatMessage("user", "Hello"),
                new ChatMessage("assistant", "Hi, how can I help?"));
        InferenceResponse r = infer(new InferenceRequest("I feel tired.", history, "Be brief.", false, 8, 0.0, null,
                null, null, null));
        assertEquals(2, r.metadata().historyMessages());
        assertTrue(r.tokensGenerated() <= 8);
    }

    /**
     * time_to_first_token counts from the request's arrival, as documented: the screening, the
     * template and the tokenizer before the scheduler are part of it (a request that arrived 30 s
     * before the service saw it reports at least 30 s), and so is the whole latency's bound.
     */
    @Test
    void timeToFirstTokenCountsFromArrivalNotFromTheScheduler() throws Exception {
        long arrival = System.nanoTime() - TimeUnit.SECONDS.toNanos(30);
        InferenceResponse r = service.infer(request("When did I arrive?", false, 0.0, null), arrival)
                .get(60, TimeUnit.SECONDS);
        assertTrue(r.metadata().timeToFirstToken() >= 30.0, () -> "ttft " + r.metadata().timeToFirstToken());
        assertTrue(r.metadata().timeToFirstToken() <= r.latency(), () -> r.metadata() + " latency " + r.latency());
    }

    /**
     * The engine thread only hands tokens over: the pieces are decoded and delivered on the
     * runtime's stream threads (the last by the completion), never on the engine thread.
     */
    @Test
    void piecesAreDeliveredOnTheStreamThreadsNotTheEngineThread() throws Exception {
        InferenceRequest r = request("Which thread writes this?", false, 0.0, null);
        List<String> threads = new CopyOnWriteArrayList<>();
        service.infer(r, System.nanoTime(), piece -> threads.add(Thread.currentThread().getName()))
                .get(60, TimeUnit.SECONDS);
        assertTrue(threads.stream().anyMatch(name -> name.startsWith("therapeia-stream-")), threads::toString);
        assertFalse(threads.contains("therapeia-engine"), threads::toString);
    }

    /**
     * A reply is completed (decoded, cached, measured) on the runtime's pooled threads, not on the
     * engine thread nor through an executor whose submit would capture a context there. Heard by a
     * stage registered before the completion, which runs on the completing thread.
     */
    @Test
    void completionsRunOnTheRuntimesThreads() throws Exception {
        String test = Thread.currentThread().getName();
        List<String> completers = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 5; i++) {
            service.infer(request("Who completes this, take " + i + "?", false, 0.0, null), System.nanoTime())
                    .whenComplete((r, failure) -> completers.add(Thread.currentThread().getName()))
                    .get(60, TimeUnit.SECONDS);
        }
        List<String> heard = completers.stream().filter(name -> !name.equals(test)).toList();
        assertFalse(heard.isEmpty(), "every reply was complete before its stage was registered: " + completers);
        assertTrue(heard.stream().allMatch(name -> name.startsWith("therapeia-stream-")), heard::toString);
    }

    @Test
    void streamedPiecesConcatenateToTheReplyAndAHitComesInOnePiece() throws Exception {
        InferenceRequest r = request("Could you stream your answer?", true, 0.0, null);
        List<String> pieces = new CopyOnWriteArrayList<>();
        InferenceResponse miss = service.infer(r, System.nanoTime(), pieces::add).get(60, TimeUnit.SECONDS);
        assertFalse(miss.cacheHit());
        assertEquals(miss.response(), String.join("", pieces));
        assertEquals(infer(request("Could you stream your answer?", false, 0.0, null)).response(), miss.response());

        List<String> cached = new CopyOnWriteArrayList<>();
        InferenceResponse hit = service.infer(r, System.nanoTime(), cached::add).get(60, TimeUnit.SECONDS);
        assertTrue(hit.cacheHit());
        assertEquals(miss.response().isEmpty() ? List.of() : List.of(miss.response()), cached);
    }

    @Test
    void aCrisisMessageIsNeverCachedAndCarriesResourcesFirst() throws Exception {
        InferenceRequest crisis = request("I have the pills saved up and I know how I'd do it.", true, 0.0, null);
        for (int i = 0; i < 3; i++) {
            InferenceResponse r = infer(crisis);
            assertFalse(r.cacheHit(), "a level 3 request is never served from the cache");
            assertEquals(3, r.metadata().safety().level());
            assertEquals("high", r.metadata().safety().label());
            assertTrue(r.metadata().safety().categories().contains("suicide"));
            assertTrue(r.response().startsWith("You don't have to go through this alone"), r.response());
            assertTrue(r.response().contains("988"), "US resources by default");
            assertEquals("988 Suicide & Crisis Lifeline", r.metadata().safety().resources().get(0).name());
        }
        InferenceResponse benign = infer(request("I've been feeling anxious lately.", true, null, null));
        assertEquals(0, benign.metadata().safety().level());
        assertTrue(benign.metadata().safety().resources().isEmpty());
    }

    @Test
    void imminentRiskPutsTheEmergencyNumberFirstForTheRequestLocale() throws Exception {
        InferenceRequest r = new InferenceRequest("I just took the whole bottle of pills", List.of(), null, true, 8,
                0.0, null, null, null, null, "en-GB");
        InferenceResponse reply = infer(r);
        assertEquals(4, reply.metadata().safety().level());
        assertTrue(reply.response().startsWith("If you are in danger right now, please call 999"), reply.response());
        assertEquals("999", reply.metadata().safety().resources().get(0).phone());
        assertEquals("116 123", reply.metadata().safety().resources().get(1).phone());
    }

    @Test
    void riskInTheHistoryKeepsTheNextTurnOutOfTheCache() throws Exception {
        List<ChatMessage> history = List.of(new ChatMessage("user", "I want to die."),
                new ChatMessage("assistant", "I'm here with you."));
        InferenceRequest r = new InferenceRequest("Can you recommend a movie?", history, null, true, 8, 0.0, null,
                null, null, null);
        assertFalse(infer(r).cacheHit());
        InferenceResponse again = infer(r);
        assertFalse(again.cacheHit());
        assertEquals(2, again.metadata().safety().level());
        assertTrue(again.response().endsWith("In an emergency, call 911."), "resources appended at level 2");
    }

    @Test
    void aStreamedCrisisReplyCarriesTheResourcesAsPieces() throws Exception {
        InferenceRequest r = request("I'm going to kill myself tonight.", true, 0.0, null);
        List<String> pieces = new CopyOnWriteArrayList<>();
        InferenceResponse reply = service.infer(r, System.nanoTime(), pieces::add).get(60, TimeUnit.SECONDS);
        assertTrue(pieces.get(0).contains("988 Suicide & Crisis Lifeline"), "resources in the first piece: " + pieces);
        assertTrue(reply.metadata().safety().level() >= 3);
        if (!String.join("", pieces).contains("I'm really glad you told me")) { // not replaced: pieces are the reply
            assertEquals(reply.response(), String.join("", pieces));
        }
    }

    @Test
    void inputThatCannotFitTheContextIsRefused() {
        String huge = "anxious ".repeat(600);
        assertThrows(PromptTooLongException.class,
                () -> service.infer(request(huge, false, 0.0, null), System.nanoTime()));
    }

    @Test
    void aCrisisMessageThatGetsNoReplyIsStillAuditedAndCounted() {
        List<String> audit = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                audit.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger auditLog = Logger.getLogger("org.therapeia.safety.audit");
        auditLog.addHandler(handler);
        try {
            int signals = safetyMetrics.signals.get();
            int referrals = safetyMetrics.referrals.get();
            // graded level 4, then refused: too long for the context
            String tooLong = "I took the whole bottle of pills just now. " + "anxious ".repeat(600);
            assertThrows(PromptTooLongException.class,
                    () -> service.infer(request(tooLong, false, 0.0, null), System.nanoTime()));
            assertEquals(signals + 1, safetyMetrics.signals.get(), "the signal counts though no reply went out");
            assertEquals(referrals, safetyMetrics.referrals.get(), "no resources reached the person");
            assertEquals(1, audit.size(), audit::toString);
            assertTrue(audit.get(0).contains("\"level\":4") && audit.get(0).contains("\"no_reply\""), audit.get(0));
            assertFalse(audit.get(0).contains("resources_first"), audit.get(0));
        } finally {
            auditLog.removeHandler(handler);
        }
    }

    /** Sampled with a seed: as repeatable as greedy decoding. */
    private static InferenceRequest withStop(long seed, List<String> stop) {
        return new InferenceRequest("Say something long.", List.of(), null, false, 24, 1.0, 1.0, 0, 1.0, seed, null,
                null, stop);
    }

    @Test
    void aStopStringEndsTheReplyBeforeItAndCountsTheTokensUpToIt() throws Exception {
        long seed = 0;
        InferenceResponse free = infer(withStop(seed, List.of()));
        while (free.response().length() < 6 && seed < 50) {
            free = infer(withStop(++seed, List.of()));
        }
        assertTrue(free.response().length() >= 6, "the default model writes a reply to cut");
        String stop = free.response().substring(free.response().length() / 2, free.response().length() / 2 + 2);
        InferenceResponse stopped = infer(withStop(seed, List.of(stop)));
        String expected = free.response().substring(0, free.response().indexOf(stop)).strip();
        assertEquals(expected, stopped.response());
        assertEquals("stop", stopped.metadata().finishReason());
        assertTrue(stopped.tokensGenerated() <= free.tokensGenerated());

        List<String> pieces = new CopyOnWriteArrayList<>();
        InferenceResponse streamed = service.infer(withStop(seed, List.of(stop)), System.nanoTime(),
                pieces::add).get(60, TimeUnit.SECONDS);
        assertEquals(expected, streamed.response());
        assertEquals(expected, String.join("", pieces), "no piece of the stop string, nor anything after it");
        assertEquals(stopped.tokensGenerated(), streamed.tokensGenerated());
    }

    @Test
    void penaltiesChangeTheGreedyReplyAndZeroPenaltiesDoNot() throws Exception {
        InferenceRequest plain = new InferenceRequest("Repeat after me.", List.of(), null, false, 24, 0.0, null, null,
                1.0, null, 0.0, 0.0, List.of());
        InferenceRequest none = new InferenceRequest("Repeat after me.", List.of(), null, false, 24, 0.0, null, null,
                1.0, null);
        assertEquals(infer(none).response(), infer(plain).response());
        InferenceRequest penalised = new InferenceRequest("Repeat after me.", List.of(), null, false, 24, 0.0, null,
                null, 1.0, null, 2.0, 2.0, List.of());
        InferenceResponse a = infer(penalised);
        assertEquals(a.response(), infer(penalised).response(), "deterministic");
    }

    @Test
    void aWindowThatWouldStartWithAssistantTurnsStartsAtAUserTurn() throws Exception {
        // context_window 10, step 6: 11 messages overflow by one, the cut is at 6, an assistant
        // turn, and moves on to the user turn at 7
        List<ChatMessage> history = new java.util.ArrayList<>();
        history.add(new ChatMessage("user", "turn 0"));
        history.add(new ChatMessage("assistant", "turn 1"));
        history.add(new ChatMessage("assistant", "turn 2"));
        for (int i = 3; i < 11; i++) {
            history.add(new ChatMessage(i % 2 == 1 ? "user" : "assistant", "turn " + i));
        }
        assertEquals(List.of(10, 6), List.of(config.contextWindow(), config.contextWindowStep()));
        InferenceResponse r = infer(new InferenceRequest("and now?", history, null, false, 4, 0.0, null, null, null,
                null));
        assertEquals(4, r.metadata().historyMessages());
    }

    @Test
    void leftOutSamplingParametersComeFromTheModelThenTheConfiguration() {
        ModelSamplingDefaults model = new ModelSamplingDefaults(0.0, 0.5, null, 1.3);
        SamplingParams fromModel = service.samplingParams(request("x", false, null, null), model);
        assertEquals(0.0, fromModel.temperature());
        assertEquals(0.5, fromModel.topP());
        assertEquals(config.topK(), fromModel.topK(), "left out by the model too: the configuration's");
        assertEquals(1.3, fromModel.repetitionPenalty());

        SamplingParams asked = service.samplingParams(new InferenceRequest("x", List.of(), null, false, null, 0.9, 0.8,
                7, 1.0, 5L), model);
        assertEquals(List.of(0.9, 0.8, 7, 1.0), List.of(asked.temperature(), asked.topP(), asked.topK(),
                asked.repetitionPenalty()), "the request's own values win");

        SamplingParams seedApi = service.samplingParams(request("x", false, null, null), ModelSamplingDefaults.NONE);
        assertEquals(List.of(config.temperature(), config.topP(), config.topK(), config.repetitionPenalty()),
                List.of(seedApi.temperature(), seedApi.topP(), seedApi.topK(), seedApi.repetitionPenalty()));
    }
}
