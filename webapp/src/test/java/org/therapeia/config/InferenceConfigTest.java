package org.therapeia.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.therapeia.TestConfig;

class InferenceConfigTest {

    @Test
    void defaultsAreTheSeeds() {
        InferenceConfig c = TestConfig.inference(Map.of());
        assertEquals(256, c.maxNewTokens());
        assertEquals(0.7, c.temperature());
        assertEquals(0.9, c.topP());
        assertEquals(50, c.topK());
        assertEquals(1.1, c.repetitionPenalty());
        assertTrue(c.useCache());
        assertTrue(c.useFlashAttention());
        assertTrue(c.compileModel());
        assertEquals(2048, c.maxContextLength());
        assertEquals(10, c.contextWindow());
        assertEquals(6, c.contextWindowStep(), "not the seed's: its start moves in steps, for the prefix cache");
        assertTrue(c.enableResponseCache());
        assertEquals(1000, c.cacheSize());
        assertEquals(Duration.ofSeconds(3600), c.cacheTtl());
        assertEquals(10, c.warmupRequests());
        assertEquals(2.0, c.slaP95Seconds());
        assertEquals("cpu", c.device());
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "therapeia", "default-model"), c.modelPath());
        assertEquals("default-model", c.modelId());
        assertFalse(c.adminToken().isPresent());
        assertFalse(c.apiKey().isPresent(), "no API key by default: the inference endpoints are open");
        assertTrue(c.prefixCacheEnabled());
        assertEquals(PrefixCacheScope.SHARED, c.prefixCacheScope());
    }

    @Test
    void prefixCacheSettings() {
        InferenceConfig c = TestConfig.inference(Map.of("PREFIX_CACHE_ENABLED", "false",
                "PREFIX_CACHE_SCOPE", "Isolated"));
        assertFalse(c.prefixCacheEnabled());
        assertEquals(PrefixCacheScope.ISOLATED, c.prefixCacheScope());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestConfig.inference(Map.of("PREFIX_CACHE_SCOPE", "everyone")));
        assertTrue(e.getMessage().contains("prefix_cache.scope"), e.getMessage());
    }

    @Test
    void contextWindowStepIsAtLeastOneMessage() {
        assertEquals(1, TestConfig.inference(Map.of("CONTEXT_WINDOW_STEP", "1")).contextWindowStep());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestConfig.inference(Map.of("CONTEXT_WINDOW_STEP", "0")));
        assertTrue(e.getMessage().contains("context_window.step"), e.getMessage());
    }

    @Test
    void seedEnvironmentVariablesOverrideByTheMicroProfileRule() {
        InferenceConfig c = TestConfig.inference(Map.of(
                "MODEL_PATH", "/models/qwen2.5-0.5b",
                "DEVICE", "cuda",
                "CACHE_SIZE", "50",
                "CACHE_TTL", "60",
                "HOST", "127.0.0.1",
                "PORT", "8000",
                "WORKERS", "2",
                "MAX_NEW_TOKENS", "64",
                "ADMIN_TOKEN", "s3cret",
                "API_KEY", " k3y "));
        assertEquals(Path.of("/models/qwen2.5-0.5b"), c.modelPath());
        assertEquals("qwen2.5-0.5b", c.modelId());
        assertEquals("cuda", c.device());
        assertEquals(50, c.cacheSize());
        assertEquals(Duration.ofSeconds(60), c.cacheTtl());
        assertEquals("127.0.0.1", c.host());
        assertEquals(8000, c.port());
        assertEquals(2, c.workers());
        assertEquals(64, c.maxNewTokens());
        assertEquals("s3cret", c.adminToken().orElseThrow());
        assertEquals("k3y", c.apiKey().orElseThrow());
    }

    @Test
    void theModelIsServedUnderItsIdAndItsAliases() {
        InferenceConfig plain = TestConfig.inference(Map.of());
        assertEquals(List.of("default-model"), plain.servedModelNames());
        assertTrue(plain.servesModel("default-model"));
        assertFalse(plain.servesModel("Default-Model"), "compared exactly, as OpenAI does");

        InferenceConfig aliased = TestConfig.inference(Map.of("MODEL_ID", "qwen3-8b",
                "MODEL_ALIASES", " gpt-4o-mini , therapist,,qwen3-8b,therapist"));
        assertEquals(List.of("qwen3-8b", "gpt-4o-mini", "therapist"), aliased.servedModelNames(),
                "the id first, then each alias once");
        assertTrue(aliased.servesModel("gpt-4o-mini"));
        assertTrue(aliased.servesModel("therapist"));
        assertFalse(aliased.servesModel("default-model"));
        assertFalse(aliased.servesModel(""));
    }

    @Test
    void outOfRangeValuesNameTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestConfig.inference(Map.of("TOP_P", "1.5")));
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TestConfig.inference(Map.of("MAX_NEW_TOKENS", "5000")));
        assertTrue(e.getMessage().contains("max_new_tokens"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TestConfig.inference(Map.of("CACHE_SIZE", "0")));
    }

    @Test
    void theCacheSecretIsOptionalLongAndNeverEchoed() {
        assertFalse(TestConfig.inference(Map.of()).cacheSecret().isPresent(), "no default");
        assertFalse(TestConfig.inference(Map.of("CACHE_SECRET", "  ")).cacheSecret().isPresent());
        String secret = "x".repeat(InferenceConfig.MIN_CACHE_SECRET_CHARS);
        assertEquals(secret, TestConfig.inference(Map.of("CACHE_SECRET", " " + secret + " ")).cacheSecret().orElseThrow());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestConfig.inference(Map.of("CACHE_SECRET", "hunter2-but-longer")));
        assertTrue(e.getMessage().contains("cache.secret"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), "the value never goes into a message");
    }

    @Test
    void malformedNumbersFail() {
        assertThrows(RuntimeException.class, () -> TestConfig.inference(Map.of("CACHE_TTL", "an hour")));
        assertThrows(NoSuchElementException.class, () -> TestConfig.inference(Map.of("DEVICE", "")));
    }
}
