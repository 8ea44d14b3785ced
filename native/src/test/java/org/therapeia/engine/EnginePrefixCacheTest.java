package org.therapeia.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The prefix cache through the binding: a second turn that resends the first turn's prompt and
 * reply reports the tokens it reused, replies as an engine without the cache does, and the stats
 * count warm slots and reused against computed prompt tokens. (native/tests/prefix_reuse_test.cpp
 * covers the engine itself across families, eviction, chunks and cancels.)
 */
class EnginePrefixCacheTest {

    private static final int[] FIRST = {3, 10, 17, 4, 9};
    private static final int[] USER = {12, 5, 7};

    private record Turns(List<Integer> first, List<Integer> second, int reusedFirst, int reusedSecond,
                         EngineStats stats) {
    }

    private static Turns converse(boolean prefixCache) {
        try (Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model("ferrl-tiny_llama")).withMaxSlots(2)
                .withPrefixCache(prefixCache))) {
            List<Integer> first = new ArrayList<>();
            int reusedFirst = run(engine, FIRST, first);
            int[] second = new int[FIRST.length + first.size() + USER.length];
            int n = 0;
            for (int id : FIRST) {
                second[n++] = id;
            }
            for (int id : first) {
                second[n++] = id;
            }
            for (int id : USER) {
                second[n++] = id;
            }
            List<Integer> reply = new ArrayList<>();
            int reusedSecond = run(engine, second, reply);
            return new Turns(first, reply, reusedFirst, reusedSecond, engine.stats());
        }
    }

    /** Runs one prompt to the end; returns the prompt tokens it reused (the same on each of its events). */
    private static int run(Engine engine, int[] prompt, List<Integer> tokens) {
        long id = engine.add(prompt, SamplingParams.greedy(6));
        int reused = -1;
        for (int guard = 0; guard < 100; guard++) {
            for (StepEvent event : engine.step()) {
                assertEquals(id, event.sequenceId());
                tokens.add(event.token());
                reused = event.promptTokensReused();
                if (event.finished()) {
                    return reused;
                }
            }
        }
        return reused;
    }

    @Test
    void theSecondTurnReusesTheFirstAndRepliesAsWithoutTheCache() {
        Turns warm = converse(true);
        Turns cold = converse(false);
        assertEquals(cold.first(), warm.first());
        assertEquals(cold.second(), warm.second());
        assertEquals(0, warm.reusedFirst());
        // the first turn's prompt and reply, but its last token (never fed through the model)
        int held = FIRST.length + warm.first().size() - 1;
        assertEquals(held, warm.reusedSecond());
        assertEquals(0, cold.reusedSecond());

        int promptTokens = FIRST.length + FIRST.length + warm.first().size() + USER.length;
        assertEquals(held, warm.stats().promptTokensReused());
        assertEquals(promptTokens - held, warm.stats().promptTokensComputed());
        assertEquals(promptTokens, cold.stats().promptTokensComputed());
        assertEquals(2, warm.stats().freeSlots(), "warm slots are free capacity");
        assertEquals(1, warm.stats().warmSlots(), "the second turn continued in the first turn's slot");
        assertEquals(promptTokens - FIRST.length + warm.second().size() - 1, warm.stats().warmTokens());
        assertEquals(0, cold.stats().warmSlots());
    }
}
