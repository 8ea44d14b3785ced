package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BenchmarkOptionsTest {

    private static BenchmarkOptions parse(String... args) throws UsageException {
        return BenchmarkOptions.parse(args, Map.of());
    }

    private static String error(String... args) {
        return assertThrows(UsageException.class, () -> BenchmarkOptions.parse(args, Map.of())).getMessage();
    }

    @Test
    void sequentialDefaults() throws UsageException {
        BenchmarkOptions o = parse("sequential");
        assertEquals(Mode.SEQUENTIAL, o.mode());
        assertEquals(URI.create("http://localhost:8080/"), o.url());
        assertEquals(100, o.requests());
        assertEquals(1, o.concurrency());
        assertTrue(o.useCache());
        assertNull(o.maxNewTokens());
        assertEquals(Duration.ofSeconds(60), o.timeout());
        assertEquals(42, o.seed());
        assertEquals(Duration.ofSeconds(60), o.waitReady());
        assertFalse(o.clearCache());
        assertNull(o.adminToken());
        assertNull(o.jsonOut());
    }

    @Test
    void concurrentWithEveryOption() throws UsageException {
        BenchmarkOptions o = parse("--url", "http://10.0.0.5:9090", "concurrent", "--requests", "250",
                "--concurrency", "16", "--cache", "off", "--max-new-tokens", "64", "--timeout", "5", "--seed", "-7",
                "--wait-ready", "0", "--json", "out/result.json");
        assertEquals(Mode.CONCURRENT, o.mode());
        assertEquals(URI.create("http://10.0.0.5:9090/"), o.url());
        assertEquals(250, o.requests());
        assertEquals(16, o.concurrency());
        assertFalse(o.useCache());
        assertEquals(64, o.maxNewTokens());
        assertEquals(Duration.ofSeconds(5), o.timeout());
        assertEquals(-7, o.seed());
        assertTrue(o.waitReady().isZero());
        assertEquals(Path.of("out/result.json"), o.jsonOut());
    }

    @Test
    void concurrentDefaultsToTen() throws UsageException {
        assertEquals(10, parse("concurrent").concurrency());
    }

    @Test
    void equalsFormAndOptionsAfterTheMode() throws UsageException {
        BenchmarkOptions o = parse("concurrent", "--requests=30", "--concurrency=3", "--cache=on", "--url=https://svc");
        assertEquals(30, o.requests());
        assertEquals(3, o.concurrency());
        assertTrue(o.useCache());
        assertEquals(URI.create("https://svc/"), o.url());
    }

    @Test
    void contextRootIsKept() throws UsageException {
        BenchmarkOptions o = parse("--url", "http://host:8080/therapeia", "sequential");
        assertEquals(URI.create("http://host:8080/therapeia/api/v1/inference"), o.endpoint("api/v1/inference"));
        assertEquals(URI.create("http://host:8080/api/v1/inference"),
                parse("--url", "http://host:8080/", "sequential").endpoint("api/v1/inference"));
    }

    @Test
    void adminTokenFromOptionOrEnvironment() throws UsageException {
        assertEquals("s3cret", BenchmarkOptions.parse(new String[] {"sequential", "--clear-cache"},
                Map.of(BenchmarkOptions.ADMIN_TOKEN_ENV, "s3cret")).adminToken());
        BenchmarkOptions o = BenchmarkOptions.parse(new String[] {"sequential", "--clear-cache", "--admin-token", "x"},
                Map.of(BenchmarkOptions.ADMIN_TOKEN_ENV, "from-env"));
        assertEquals("x", o.adminToken());
        assertTrue(o.clearCache());
    }

    @Test
    void apiKeyFromOptionOrEnvironment() throws UsageException {
        assertNull(parse("sequential").apiKey());
        assertEquals("k", BenchmarkOptions.parse(new String[] {"sequential"},
                Map.of(BenchmarkOptions.API_KEY_ENV, "k")).apiKey());
        assertEquals("x", BenchmarkOptions.parse(new String[] {"sequential", "--api-key", "x"},
                Map.of(BenchmarkOptions.API_KEY_ENV, "k")).apiKey());
    }

    @Test
    void streamIsAFlag() throws UsageException {
        assertFalse(parse("sequential").stream());
        assertTrue(parse("concurrent", "--stream").stream());
        assertThrows(UsageException.class, () -> parse("sequential", "--stream=yes"));
    }

    @Test
    void theApiIsTheSeedsUnlessOpenAiIsAskedFor() throws UsageException {
        assertEquals(Api.SEED, parse("sequential").api());
        assertNull(parse("sequential").model());
        BenchmarkOptions openAi = parse("concurrent", "--api", "openai", "--stream");
        assertEquals(Api.OPENAI, openAi.api());
        assertNull(openAi.model(), "the served model, asked of the service");
        assertEquals("therapist", parse("sequential", "--api=openai", "--model", "therapist").model());
        assertEquals(Api.SEED, parse("sequential", "--api", "seed").api());
        assertTrue(error("sequential", "--api", "anthropic").contains("seed or openai"));
        assertTrue(error("sequential", "--model", "m").contains("--api openai"));
        assertTrue(error("sequential", "--api", "openai", "--model", " ").contains("name a model"));
    }

    @Test
    void helpReturnsNull() throws UsageException {
        assertNull(parse("--help"));
        assertNull(parse("concurrent", "-h"));
    }

    @Test
    void usageErrorsSayWhatToFix() {
        assertTrue(error().contains("sequential or concurrent"));
        assertTrue(error("--requests", "5").contains("sequential or concurrent"));
        assertTrue(error("parallel").contains("unknown command 'parallel'"));
        assertTrue(error("sequential", "concurrent").contains("one mode"));
        assertTrue(error("sequential", "--verbose", "1").contains("unknown option --verbose"));
        assertTrue(error("sequential", "--requests").contains("--requests needs a value"));
        assertTrue(error("sequential", "--requests", "ten").contains("whole number"));
        assertTrue(error("sequential", "--requests", "0").contains("at least 1"));
        assertTrue(error("concurrent", "--concurrency", "-2").contains("at least 1"));
        assertTrue(error("sequential", "--cache", "maybe").contains("on or off"));
        assertTrue(error("sequential", "--concurrency", "4").contains("applies to the concurrent benchmark"));
        assertTrue(error("sequential", "--clear-cache").contains("admin token"));
        assertTrue(error("sequential", "--clear-cache=yes").contains("takes no value"));
        assertTrue(error("sequential", "--wait-ready", "-1").contains("0 or more"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost:8080", "ftp://host", "http://", "http://host/?q=1", "not a url"})
    void badUrlsAreRefused(String url) {
        assertTrue(error("--url", url, "sequential").contains("--url"), url);
    }
}
