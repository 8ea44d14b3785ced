package org.therapeia.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One sequence's failure never harms another, through the Java binding and below the service's
 * validation: a sequence whose logits turn NaN (its token's input embedding is NaN, as in a
 * corrupt checkpoint) ends with a failed {@link StepEvent} naming the cause, while the other
 * sequence of the same steps produces exactly the tokens it produces alone; sampling settings
 * that overflow float32 are computed safely. The model is neuralapi-tiny_qwen2: untied
 * embeddings (a NaN input row reaches only the sequences that feed that token), vocabulary 12.
 */
class EngineIsolationTest {

    private static final String MODEL = "neuralapi-tiny_qwen2";
    private static final int[] HEALTHY = {1, 2, 3};
    private static final int LENGTH = 8;

    @TempDir
    Path temp;

    /** Tokens (and failure, if any) of one sequence. */
    private record Outcome(List<Integer> tokens, String failure) {
    }

    @Test
    void sequenceWithNanLogitsFailsAloneInItsBatch() {
        Path sound = Fixtures.model(MODEL);
        Outcome healthyOnSound = alone(sound, HEALTHY, SamplingParams.greedy(LENGTH));
        Set<Integer> fed = new HashSet<>(healthyOnSound.tokens());
        for (int t : HEALTHY) {
            fed.add(t);
        }
        // A prompt whose first generated token the healthy sequence never feeds: that token's
        // embedding is made NaN, so the poisoned sequence fails at its first decode step, in one
        // batch with the healthy one.
        int[] poisoned = null;
        int poison = -1;
        for (int a = 0; a < 12 && poisoned == null; a++) {
            int[] candidate = {a, (a + 5) % 12};
            int first = alone(sound, candidate, SamplingParams.greedy(1)).tokens().get(0);
            if (!fed.contains(first) && first != candidate[0] && first != candidate[1]) {
                poisoned = candidate;
                poison = first;
            }
        }
        assertNotNull(poisoned, "a prompt whose first token the healthy sequence never feeds");

        Path broken = Fixtures.copyModel(MODEL, temp.resolve("broken"));
        SafetensorsFile.read(broken.resolve("model.safetensors")).withNanRow("model.embed_tokens.weight", poison)
                .write(broken.resolve("model.safetensors"));
        try (Engine engine = Engine.open(EngineOptions.defaults(broken).withMaxSlots(2).withThreads(1))) {
            long healthy = engine.add(HEALTHY, SamplingParams.greedy(LENGTH));
            long bad = engine.add(poisoned, SamplingParams.greedy(LENGTH));
            Map<Long, Outcome> outcomes = run(engine);

            Outcome failed = outcomes.get(bad);
            assertEquals(List.of(poison), failed.tokens(), "its first token, then the failure");
            assertNotNull(failed.failure());
            assertTrue(failed.failure().contains("NaN"), failed.failure());
            assertNull(outcomes.get(healthy).failure());
            assertEquals(healthyOnSound.tokens(), outcomes.get(healthy).tokens(),
                    "the healthy sequence's tokens are those it makes alone");
            EngineStats stats = engine.stats();
            assertEquals(0, stats.running());
            assertEquals(stats.totalSlots(), stats.freeSlots());
            // and the engine serves on, in the slot the failed sequence had
            assertEquals(healthyOnSound.tokens(), generate(engine, HEALTHY, SamplingParams.greedy(LENGTH)).tokens());
        }
    }

    @Test
    void samplingSettingsThatOverflowFloat32AreComputedSafely() {
        Path sound = Fixtures.model(MODEL);
        int[] other = {4, 9, 6};
        Outcome healthyAlone = alone(sound, HEALTHY, SamplingParams.greedy(LENGTH));
        Outcome otherGreedy = alone(sound, other, SamplingParams.greedy(LENGTH));
        double subnormal = Double.MIN_VALUE;
        SamplingParams[] extremes = {
            new SamplingParams(LENGTH, 1e-39, 0, 1.0, 1.0, 1L),
            new SamplingParams(LENGTH, subnormal, 0, 1.0, 1.0, 2L),
            new SamplingParams(LENGTH, 1e308, 0, 1.0, 1.0, 3L),
            new SamplingParams(LENGTH, 0.7, 0, 1.0, 1e-39, 4L),
            new SamplingParams(LENGTH, 1e-39, 0, 1.0, subnormal, 5L),
            new SamplingParams(LENGTH, 1.0, Integer.MAX_VALUE, subnormal, 1e308, Long.MIN_VALUE),
        };
        try (Engine engine = Engine.open(EngineOptions.defaults(sound).withMaxSlots(2).withThreads(1))) {
            for (SamplingParams extreme : extremes) {
                long healthy = engine.add(HEALTHY, SamplingParams.greedy(LENGTH));
                long x = engine.add(other, extreme);
                Map<Long, Outcome> outcomes = run(engine);
                assertNull(outcomes.get(x).failure(), () -> extreme + ": " + outcomes.get(x).failure());
                assertEquals(LENGTH, outcomes.get(x).tokens().size(), extreme::toString);
                assertEquals(healthyAlone, outcomes.get(healthy), extreme::toString);
                if (extreme.temperature() < 1e-30 && extreme.repetitionPenalty() == 1.0) {
                    // the limit of sampling as the temperature goes to 0 is greedy decoding
                    assertEquals(otherGreedy.tokens(), outcomes.get(x).tokens(), extreme::toString);
                }
            }
        }
    }

    private static Outcome alone(Path model, int[] prompt, SamplingParams params) {
        try (Engine engine = Engine.open(EngineOptions.defaults(model).withMaxSlots(2).withThreads(1))) {
            return generate(engine, prompt, params);
        }
    }

    private static Outcome generate(Engine engine, int[] prompt, SamplingParams params) {
        long id = engine.add(prompt, params);
        return run(engine).get(id);
    }

    /** Steps until every sequence ended; no sequence has an event after its last. */
    private static Map<Long, Outcome> run(Engine engine) {
        Map<Long, List<Integer>> tokens = new HashMap<>();
        Map<Long, String> failures = new HashMap<>();
        Set<Long> ended = new HashSet<>();
        for (int step = 0; step < 1000; step++) {
            EngineStats stats = engine.stats();
            if (stats.running() == 0 && stats.waiting() == 0) {
                Map<Long, Outcome> outcomes = new HashMap<>();
                tokens.keySet().forEach(id -> assertTrue(ended.contains(id), "sequence " + id + " never ended"));
                failures.keySet().forEach(id -> tokens.putIfAbsent(id, new ArrayList<>()));
                tokens.forEach((id, list) -> outcomes.put(id, new Outcome(list, failures.get(id))));
                return outcomes;
            }
            for (StepEvent event : engine.step()) {
                assertFalse(ended.contains(event.sequenceId()), "an event after the sequence ended");
                if (event.failed()) {
                    assertEquals(-1, event.token());
                    assertTrue(event.finished());
                    failures.put(event.sequenceId(), event.failure());
                } else {
                    tokens.computeIfAbsent(event.sequenceId(), k -> new ArrayList<>()).add(event.token());
                }
                if (event.finished()) {
                    ended.add(event.sequenceId());
                }
            }
        }
        throw new AssertionError("the engine did not finish its sequences in 1000 steps");
    }
}
