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
    void conversationDefaultsAreThoseOfThePythonScript() throws UsageException {
        BenchmarkOptions o = parse("conversation");
        assertEquals(Mode.CONVERSATION, o.mode());
        assertEquals(8, o.conversations());
        assertEquals(10, o.turns());
        assertEquals(4, o.concurrency());
        assertEquals(80, o.requests(), "every turn is a request");
        assertFalse(o.useCache(), "first turns repeat across conversations: the response cache would answer them");
    }

    @Test
    void conversationWithItsOptions() throws UsageException {
        BenchmarkOptions o = parse("--api", "openai", "conversation", "--conversations", "3", "--turns=5",
                "--concurrency", "2", "--cache", "on", "--stream", "--max-new-tokens", "16");
        assertEquals(3, o.conversations());
        assertEquals(5, o.turns());
        assertEquals(2, o.concurrency());
        assertEquals(15, o.requests());
        assertTrue(o.useCache());
        assertTrue(o.stream());
        assertEquals(Api.OPENAI, o.api());
        assertEquals(16, o.maxNewTokens());
    }

    @Test
    void conversationOptionsBelongToTheConversationRun() throws UsageException {
        assertEquals(0, parse("concurrent").conversations());
        assertEquals(0, parse("concurrent").turns());
        assertTrue(error("conversation", "--requests", "10").contains("--conversations x --turns"));
        assertTrue(error("concurrent", "--turns", "3").contains("--turns applies to the conversation benchmark"));
        assertTrue(error("sequential", "--conversations", "3")
                .contains("--conversations applies to the conversation benchmark"));
        assertTrue(error("conversation", "--turns", "0").contains("at least 1"));
        assertTrue(error("conversation", "--conversations", "70000", "--turns", "70000").contains("more requests"));
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
        assertTrue(error().contains("sequential, concurrent or conversation"));
        assertTrue(error("--requests", "5").contains("sequential, concurrent or conversation"));
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
