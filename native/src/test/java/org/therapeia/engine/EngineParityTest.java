package org.therapeia.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Parity with Hugging Face transformers through the Java binding: all-position logits of the
 * third-party reference models (fixtures/hf-reference) within 1e-4 relative (max abs difference
 * over max abs reference logit) with the same argmax everywhere; greedy generation through
 * add/step equal to the argmax chain of full forward passes; a batch equal to each prompt alone.
 */
class EngineParityTest {

    private static final double TOLERANCE = 1e-4;

    @Test
    void llamaLogitsMatchTransformersGolden() {
        Path dir = Fixtures.model("ferrl-tiny_llama");
        JsonObject cases = Fixtures.readJson(dir.resolve("golden.json")).getJsonObject("cases");
        try (Engine engine = Engine.open(EngineOptions.defaults(dir))) {
            assertEquals("LlamaForCausalLM", engine.architecture());
            for (String name : cases.keySet()) {
                JsonObject c = cases.getJsonObject(name);
                JsonArray inputs = c.getJsonArray("input_ids");
                int[] shape = Fixtures.ints(c.getJsonArray("shape")); // [B, T, V]
                double[] logits = Fixtures.flatten(c.get("logits"));
                int rowSize = shape[1] * shape[2];
                for (int b = 0; b < shape[0]; b++) {
                    int[] ids = Fixtures.ints(inputs.getJsonArray(b));
                    double[] expected = Arrays.copyOfRange(logits, b * rowSize, (b + 1) * rowSize);
                    assertLogitsMatch("ferrl-tiny_llama " + name + "[" + b + "]", expected, shape[2],
                            engine.logits(ids));
                }
            }
        }
    }

    @Test
    void qwen2LogitsMatchTransformers() {
        Path dir = Fixtures.model("neuralapi-tiny_qwen2");
        JsonObject reference = Fixtures.readJson(dir.resolve("logits.json"));
        JsonArray sequences = reference.getJsonArray("sequences");
        JsonArray logits = reference.getJsonArray("logits");
        try (Engine engine = Engine.open(EngineOptions.defaults(dir))) {
            assertEquals("Qwen2ForCausalLM", engine.architecture());
            for (int s = 0; s < sequences.size(); s++) {
                int[] ids = Fixtures.ints(sequences.getJsonArray(s));
                double[] expected = Fixtures.flatten(logits.get(s));
                int vocab = logits.getJsonArray(s).getJsonArray(0).size();
                assertLogitsMatch("neuralapi-tiny_qwen2 sequence " + s, expected, vocab, engine.logits(ids));
            }
        }
    }

    @Test
    void greedyGenerationEqualsArgmaxChainOfFullForwardPasses() {
        try (Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model("ferrl-tiny_llama")))) {
            assertArrayEquals(new int[] {2}, engine.eosTokenIds());
            int[] prompt = {3, 10, 17, 24, 31, 6, 13};
            List<Integer> generated = generate(engine, prompt, SamplingParams.greedy(16));
            assertArgmaxChain(engine, prompt, generated, 16);
        }
        Path qwen2 = Fixtures.model("neuralapi-tiny_qwen2"); // max_position_embeddings 16
        try (Engine engine = Engine.open(EngineOptions.defaults(qwen2))) {
            int[] prompt = {0, 7, 2, 9, 4, 11};
            List<Integer> generated = generate(engine, prompt, SamplingParams.greedy(8));
            assertArgmaxChain(engine, prompt, generated, 8);
        }
    }

    @Test
    void batchOfDifferentLengthsEqualsEachPromptAlone() {
        int[][] prompts = {{3, 10, 17}, {1, 6, 11, 16, 21, 26, 31, 4, 9}, {4, 15, 26, 5, 16}};
        try (Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model("ferrl-tiny_llama")).withMaxSlots(4))) {
            List<List<Integer>> alone = new ArrayList<>();
            for (int[] prompt : prompts) {
                alone.add(generate(engine, prompt, SamplingParams.greedy(12)));
            }
            long[] ids = new long[prompts.length];
            for (int i = 0; i < prompts.length; i++) {
                ids[i] = engine.add(prompts[i], SamplingParams.greedy(12));
            }
            Map<Long, List<Integer>> together = runToCompletion(engine);
            for (int i = 0; i < prompts.length; i++) {
                assertEquals(alone.get(i), together.get(ids[i]), "prompt " + i + " in a batch of three vs alone");
            }
            EngineStats stats = engine.stats();
            assertEquals(0, stats.running());
            assertEquals(0, stats.waiting());
            assertEquals(4, stats.totalSlots());
            assertEquals(stats.totalSlots(), stats.freeSlots());
            assertEquals(32, stats.vocabSize());
            assertTrue(stats.tokensGenerated() >= 12, "tokens generated: " + stats.tokensGenerated());
        }
    }

    @Test
    void sequencesBeyondTheFreeSlotsWaitAndCancelFreesTheSlot() {
        try (Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model("ferrl-tiny_llama")).withMaxSlots(1))) {
            long first = engine.add(new int[] {3, 10, 17}, SamplingParams.greedy(30));
            long second = engine.add(new int[] {4, 15, 26}, SamplingParams.greedy(3));
            List<StepEvent> events = engine.step();
            assertEquals(1, events.size(), "one slot: one sequence runs");
            assertEquals(first, events.get(0).sequenceId());
            assertEquals(1, engine.stats().waiting());
            engine.cancel(first);
            engine.cancel(12345L); // unknown ids are ignored
            Map<Long, List<Integer>> rest = runToCompletion(engine);
            assertFalse(rest.containsKey(first), "a cancelled sequence produces no further tokens");
            assertTrue(rest.containsKey(second), "the waiting sequence runs once the slot is free");
            assertEquals(1, engine.stats().freeSlots());
        }
    }

    // --- helpers --------------------------------------------------------------------------------

    static List<Integer> generate(Engine engine, int[] prompt, SamplingParams params) {
        long id = engine.add(prompt, params);
        List<Integer> tokens = runToCompletion(engine).get(id);
        if (tokens == null) {
            fail("sequence " + id + " produced no tokens");
        }
        return tokens;
    }

    /** Steps until nothing runs or waits; tokens per sequence id, checking each ends with finished. */
    static Map<Long, List<Integer>> runToCompletion(Engine engine) {
        Map<Long, List<Integer>> tokens = new HashMap<>();
        Map<Long, Boolean> finished = new HashMap<>();
        for (int step = 0; step < 10_000; step++) {
            EngineStats stats = engine.stats();
            if (stats.running() == 0 && stats.waiting() == 0) {
                finished.forEach((id, done) -> assertTrue(done, "sequence " + id + " never finished"));
                return tokens;
            }
            for (StepEvent event : engine.step()) {
                assertFalse(finished.getOrDefault(event.sequenceId(), false),
                        "sequence " + event.sequenceId() + " produced a token after finishing");
                tokens.computeIfAbsent(event.sequenceId(), k -> new ArrayList<>()).add(event.token());
                finished.put(event.sequenceId(), event.finished());
            }
        }
        throw new AssertionError("the engine did not finish its sequences in 10000 steps");
    }

    /**
     * Each generated token must be the argmax of a full forward pass over the prompt and the tokens
     * before it (cached incremental decoding equals the uncached forward). A near-tie (gap below
     * the tolerance) ends the comparison, since either token is then correct.
     */
    private static void assertArgmaxChain(Engine engine, int[] prompt, List<Integer> generated, int maxNewTokens) {
        assertFalse(generated.isEmpty());
        int[] prefix = prompt;
        for (int i = 0; i < generated.size(); i++) {
            float[][] logits = engine.logits(prefix);
            float[] last = logits[logits.length - 1];
            int expected = argmax(last);
            int actual = generated.get(i);
            if (actual != expected) {
                double gap = last[expected] - last[actual];
                if (gap <= TOLERANCE * maxAbs(last)) {
                    return;
                }
                fail("greedy token " + i + " is " + actual + ", the full forward pass's argmax is " + expected
                        + " (gap " + gap + "); generated " + generated);
            }
            prefix = Arrays.copyOf(prefix, prefix.length + 1);
            prefix[prefix.length - 1] = actual;
        }
        int last = generated.get(generated.size() - 1);
        boolean eos = Arrays.stream(engine.eosTokenIds()).anyMatch(e -> e == last);
        boolean contextFull = prompt.length + generated.size() >= engine.stats().maxContext();
        assertTrue(generated.size() == maxNewTokens || eos || contextFull,
                "generation stopped after " + generated.size() + " tokens without EOS or a limit: " + generated);
    }

    private static void assertLogitsMatch(String what, double[] expected, int vocab, float[][] actual) {
        int rows = expected.length / vocab;
        assertEquals(rows, actual.length, what + ": positions");
        double maxRef = 0;
        double maxDiff = 0;
        for (int t = 0; t < rows; t++) {
            assertEquals(vocab, actual[t].length, what + ": vocabulary size");
            for (int v = 0; v < vocab; v++) {
                double ref = expected[t * vocab + v];
                maxRef = Math.max(maxRef, Math.abs(ref));
                maxDiff = Math.max(maxDiff, Math.abs(ref - actual[t][v]));
            }
        }
        double relative = maxDiff / maxRef;
        System.out.printf("parity %s: max abs diff %.3g, max abs logit %.3g, relative %.3g%n", what, maxDiff, maxRef,
                relative);
        assertTrue(relative <= TOLERANCE, what + ": relative error " + relative + " > " + TOLERANCE);
        for (int t = 0; t < rows; t++) {
            double[] ref = Arrays.copyOfRange(expected, t * vocab, (t + 1) * vocab);
            assertEquals(argmax(ref), argmax(actual[t]), what + ": argmax at position " + t);
        }
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
