package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.therapeia.Fixtures;
import org.therapeia.api.ChatMessage;

/**
 * fixtures/tokenizer-cases/hf_tokenizer_cases.json: ids and decoded text produced by Hugging Face
 * tokenizers. The groups whose tokenizer is a SentencePiece .model file are left out: the service
 * loads tokenizer.json only (every current Hugging Face model ships one).
 */
class TokenizerTest {

    static Stream<Arguments> cases() {
        JsonObject all = Fixtures.readJson(Fixtures.tokenizerCases().resolve("hf_tokenizer_cases.json"));
        List<Arguments> out = new ArrayList<>();
        for (String group : all.keySet()) {
            String file = all.getJsonObject(group).getString("tokenizer");
            if (!file.endsWith(".json")) {
                continue;
            }
            int i = 0;
            for (JsonValue c : all.getJsonObject(group).getJsonArray("cases")) {
                out.add(Arguments.of(group + "#" + i++, file, c.asJsonObject()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesHuggingFace(String name, String file, JsonObject c) {
        try (Tokenizer tokenizer = Tokenizer.load(Fixtures.tokenizerCases().resolve(file))) {
            int[] expected = c.getJsonArray("ids").getValuesAs(jakarta.json.JsonNumber.class).stream()
                    .mapToInt(jakarta.json.JsonNumber::intValue).toArray();
            assertArrayEquals(expected, tokenizer.encode(c.getString("text")), "ids");
            assertEquals(c.getString("decoded"), tokenizer.decode(expected), "decoded");
        }
    }

    @Test
    void neverTruncates() {
        try (Tokenizer tokenizer = Tokenizer.load(
                Fixtures.tokenizerCases().resolve("tiny_bpe_bytelevel_tokenizer.json"))) {
            String text = "hello world ".repeat(2000);
            int[] ids = tokenizer.encode(text);
            assertTrue(ids.length > 2000, "got " + ids.length + " ids");
            assertEquals(text, tokenizer.decode(ids));
        }
    }

    @Test
    void missingFileIsNamed() {
        Path missing = Path.of("no-such-dir", "tokenizer.json");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(missing));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    /** Only added_tokens is rewritten for the plain tokenizer: a file without the key loads too. */
    @Test
    void aFileWithoutAddedTokensLoads(@TempDir Path dir) throws IOException {
        Path fixture = Fixtures.tokenizerCases().resolve("tiny_bpe_bytelevel_tokenizer.json");
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, Json.createObjectBuilder(Fixtures.readJson(fixture)).remove("added_tokens").build()
                .toString());
        try (Tokenizer tokenizer = Tokenizer.load(file); Tokenizer original = Tokenizer.load(fixture)) {
            assertArrayEquals(original.encode("Hello world"), tokenizer.encode("Hello world"));
            ContentEscapes escapes = tokenizer.escape(List.of(new ChatMessage("user", "<|endoftext|>")));
            assertTrue(escapes.isEmpty(), "no special token in this file");
            assertArrayEquals(tokenizer.encode("<|endoftext|>"), tokenizer.encode("<|endoftext|>", escapes));
        }
    }

    /**
     * Closing frees the native tokenizer while request threads may be inside it (a redeploy or a
     * SIGTERM under load): close waits for the encodes and decodes in progress, and every later
     * one is refused as shutting down; none sees freed memory (which would crash this JVM or return
     * garbage).
     */
    @Test
    void closingWhileThreadsEncodeWaitsForThemAndRefusesLaterOnes() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(Fixtures.tokenizerCases().resolve("tiny_bpe_bytelevel_tokenizer.json"));
        String text = "hello world, how are you today? ".repeat(300);
        int[] expected = tokenizer.encode(text);
        int threads = 8;
        CountDownLatch everyThreadEncoded = new CountDownLatch(threads);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> users = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread user = new Thread(() -> {
                try {
                    while (true) {
                        int[] ids = tokenizer.encode(text);
                        assertArrayEquals(expected, ids, "an encode during close");
                        assertEquals(text, tokenizer.decode(ids), "a decode during close");
                        everyThreadEncoded.countDown();
                    }
                } catch (ShuttingDownException refused) {
                    // what every use after close gets
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            user.start();
            users.add(user);
        }
        assertTrue(everyThreadEncoded.await(60, TimeUnit.SECONDS));
        tokenizer.close();
        for (Thread user : users) {
            user.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(user.isAlive(), "refused after close");
        }
        assertTrue(failures.isEmpty(), failures::toString);
        assertThrows(ShuttingDownException.class, () -> tokenizer.encode("after close"));
        assertThrows(ShuttingDownException.class, () -> tokenizer.decode(expected));
        tokenizer.close(); // idempotent
    }
}
