package org.therapeia.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input reaches Java as an {@link EngineException} whose message names the file, tensor or
 * limit at fault; afterwards the JVM is alive and an engine on a good model still answers.
 * Broken model folders are copies of a fixture, corrupted in a temporary folder.
 */
class EngineBadInputTest {

    private static final String MODEL = "ferrl-tiny_llama";
    private static final int[] PROBE = {3, 10, 17, 24};

    private static Engine healthy;
    private static float[][] healthyLogits;

    @TempDir
    Path temp;

    @BeforeAll
    static void openHealthyEngine() {
        healthy = Engine.open(EngineOptions.defaults(Fixtures.model(MODEL)));
        healthyLogits = healthy.logits(PROBE);
    }

    @AfterAll
    static void closeHealthyEngine() {
        healthy.close();
    }

    /** After every failure: the good engine still computes the same logits and still generates. */
    @AfterEach
    void healthyEngineStillServes() {
        float[][] logits = healthy.logits(PROBE);
        for (int t = 0; t < logits.length; t++) {
            assertTrue(Arrays.equals(healthyLogits[t], logits[t]), "logits of the healthy engine changed at " + t);
        }
        assertTrue(!EngineParityTest.generate(healthy, PROBE, SamplingParams.greedy(4)).isEmpty());
    }

    @Test
    void missingModelFolder() {
        Path missing = temp.resolve("no-such-model");
        assertOpenFails(missing, missing.toString());
    }

    @Test
    void configThatIsNotJson() throws IOException {
        Path dir = copy();
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\", oops");
        assertOpenFails(dir, "config.json");
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Path dir = copy();
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        assertOpenFails(dir, "GPT2LMHeadModel");
    }

    @Test
    void truncatedSafetensorsFile() throws IOException {
        Path dir = copy();
        Path weights = dir.resolve("model.safetensors");
        try (RandomAccessFile file = new RandomAccessFile(weights.toFile(), "rw")) {
            file.setLength(file.length() / 2);
        }
        assertOpenFails(dir, "model.safetensors");
    }

    @Test
    void safetensorsFileTruncatedInsideItsHeader() throws IOException {
        Path dir = copy();
        Path weights = dir.resolve("model.safetensors");
        try (RandomAccessFile file = new RandomAccessFile(weights.toFile(), "rw")) {
            file.setLength(100);
        }
        assertOpenFails(dir, "model.safetensors");
    }

    @Test
    void headerOffsetsPastTheEndOfTheFile() {
        Path dir = copy();
        Path weights = dir.resolve("model.safetensors");
        SafetensorsFile file = SafetensorsFile.read(weights);
        long end = file.dataSize() + 4096L;
        file.withOffsets("model.norm.weight", end - 128, end).write(weights);
        assertOpenFails(dir, "model.norm.weight", "model.safetensors");
    }

    @Test
    void missingTensor() {
        Path dir = copy();
        Path weights = dir.resolve("model.safetensors");
        SafetensorsFile.read(weights).without("model.layers.1.mlp.down_proj.weight").write(weights);
        assertOpenFails(dir, "model.layers.1.mlp.down_proj.weight");
    }

    @Test
    void tensorOfTheWrongShape() {
        Path dir = copy();
        Path weights = dir.resolve("model.safetensors");
        SafetensorsFile.read(weights).withShape("model.layers.0.self_attn.o_proj.weight", 32, 16).write(weights);
        assertOpenFails(dir, "model.layers.0.self_attn.o_proj.weight");
    }

    @Test
    void tokenIdOutsideTheVocabulary() {
        EngineException add = assertThrows(EngineException.class,
                () -> healthy.add(new int[] {3, 10, 999}, SamplingParams.greedy(4)));
        assertNames(add, "999");
        assertNames(add, "32"); // the vocabulary size
        assertNames(assertThrows(EngineException.class, () -> healthy.add(new int[] {-1}, SamplingParams.greedy(4))),
                "-1");
        assertNames(assertThrows(EngineException.class, () -> healthy.logits(new int[] {3, 32})), "32");
        assertEquals(0, healthy.stats().waiting(), "a rejected prompt must not be queued");
    }

    @Test
    void promptLongerThanTheContext() {
        try (Engine small = Engine.open(EngineOptions.defaults(Fixtures.model(MODEL)).withMaxContext(8))) {
            assertEquals(8, small.stats().maxContext());
            int[] prompt = {3, 4, 5, 6, 7, 8, 9, 10, 11};
            EngineException e = assertThrows(EngineException.class, () -> small.add(prompt, SamplingParams.greedy(4)));
            assertNames(e, "9"); // the prompt length
            assertNames(e, "max_context");
            // the engine itself keeps working
            assertTrue(!EngineParityTest.generate(small, new int[] {3, 4}, SamplingParams.greedy(2)).isEmpty());
        }
        assertNames(assertThrows(EngineException.class,
                () -> Engine.open(EngineOptions.defaults(Fixtures.model(MODEL)).withMaxContext(100_000))),
                "max_position_embeddings");
    }

    @Test
    void invalidArguments() {
        assertNames(assertThrows(EngineException.class, () -> healthy.add(null, SamplingParams.greedy(1))),
                "promptIds");
        assertNames(assertThrows(EngineException.class, () -> healthy.logits(null)), "ids");
        assertNames(assertThrows(EngineException.class, () -> healthy.add(new int[0], SamplingParams.greedy(1))),
                "empty");
        assertNames(assertThrows(EngineException.class,
                () -> healthy.add(PROBE, new SamplingParams(4, 0.7, 0, 1.5, 1.0, 1))), "top_p");
        assertNames(assertThrows(EngineException.class, () -> healthy.add(PROBE, SamplingParams.greedy(0))),
                "max_new_tokens");
        assertNames(assertThrows(EngineException.class,
                () -> Engine.open(EngineOptions.defaults(Fixtures.model(MODEL)).withDtype("int4"))), "int4");
        assertNames(assertThrows(EngineException.class,
                () -> Engine.open(EngineOptions.defaults(Fixtures.model(MODEL)).withDevice("tpu"))), "tpu");
        assertNames(assertThrows(EngineException.class, () -> NativeEngine.create(null, "float32", "cpu", 1, 0, 1, true)),
                "modelDir");
    }

    @Test
    void useAfterClose() {
        Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model(MODEL)));
        engine.close();
        engine.close(); // idempotent
        assertTrue(engine.isClosed());
        for (Executable call : new Executable[] {
                () -> engine.add(PROBE, SamplingParams.greedy(1)), engine::step, () -> engine.cancel(1),
                engine::stats, () -> engine.logits(PROBE), engine::eosTokenIds, engine::architecture}) {
            assertNames(assertThrows(EngineException.class, call), "engine is closed");
        }
        // a zero handle never reaches C++ as a pointer
        assertNames(assertThrows(EngineException.class, () -> NativeEngine.stats(0)), "closed");
    }

    // --- helpers --------------------------------------------------------------------------------

    private Path copy() {
        return Fixtures.copyModel(MODEL, temp.resolve("model"));
    }

    private static void assertOpenFails(Path dir, String... anyOf) {
        EngineException e = assertThrows(EngineException.class, () -> Engine.open(EngineOptions.defaults(dir)));
        assertNames(e, anyOf);
    }

    /** The message names at least one of {@code anyOf}, and carries no C++ backtrace. */
    private static void assertNames(EngineException e, String... anyOf) {
        String message = e.getMessage();
        System.out.println("EngineException: " + message);
        assertTrue(message != null && Arrays.stream(anyOf).anyMatch(message::contains),
                "message should name one of " + Arrays.toString(anyOf) + ": " + message);
        assertTrue(!message.contains("Exception raised from"), "C++ backtrace in the message: " + message);
        assertTrue(new String(message.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(message));
    }
}
