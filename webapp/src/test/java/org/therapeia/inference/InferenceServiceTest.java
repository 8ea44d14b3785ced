package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.therapeia.NativePrerequisites;
import org.therapeia.TestConfig;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceResponse;
import org.therapeia.cache.CacheKey;
import org.therapeia.cache.CachedReply;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.metrics.ServiceMetrics;

/**
 * The whole inference path outside a container: the default model (scripts/make-default-model.py,
 * built by Maven into target/default-model), its tokenizer and chat template, the real engine and
 * scheduler. The response cache is a map here (ResponseCacheTest covers the Hazelcast one) and the
 * MicroProfile metrics are left out.
 */
class InferenceServiceTest {

    private static ModelRuntime runtime;
    private static InferenceService service;
    private static LatencyTracker tracker;
    private static InferenceConfig config;

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
        public void onFirstToken(long nanos) {
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
        service = new InferenceService(config, runtime, new MapCache(), tracker, metrics);
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

        InferenceResponse second = infer(request("  I've been feeling   anxious lately. ", true, null, null));
        assertTrue(second.cacheHit());
        assertEquals(first.response(), second.response());
        assertEquals(first.tokensGenerated(), second.tokensGenerated());

        assertFalse(infer(request("I've been feeling anxious lately.", false, null, null)).cacheHit());
        assertTrue(tracker.snapshot().totalRequests() >= 3);
    }

    @Test
    void sameSeedSameReply() throws Exception {
        InferenceResponse a = infer(request("Tell me something calming.", false, 0.9, 42L));
        InferenceResponse b = infer(request("Tell me something calming.", false, 0.9, 42L));
        assertEquals(a.response(), b.response());
        assertEquals(a.tokensGenerated(), b.tokensGenerated());
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
    void inputThatCannotFitTheContextIsRefused() {
        String huge = "anxious ".repeat(600);
        assertThrows(PromptTooLongException.class,
                () -> service.infer(request(huge, false, 0.0, null), System.nanoTime()));
    }
}
