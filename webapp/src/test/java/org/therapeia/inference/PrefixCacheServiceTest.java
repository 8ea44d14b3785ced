package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import org.therapeia.config.InferenceConfig;
import org.therapeia.config.SafetyConfig;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.safety.NoSafetyMetrics;
import org.therapeia.safety.SafetyService;

/**
 * The prefix cache through the whole inference path (default model, real engine): a conversation's
 * later turns report the prompt tokens they reused and reply exactly as a service without the
 * prefix cache does; isolated scopes share prefixes only under the same cache_salt.
 */
class PrefixCacheServiceTest {

    private static final List<String> TURNS = List.of("I've been feeling anxious lately.",
            "It gets worse at night, when I try to sleep.", "What could I try tonight?");

    private static final List<ModelRuntime> runtimes = new ArrayList<>();
    private static InferenceService shared;
    private static InferenceService off;
    private static InferenceService isolated;
    private static InferenceService ahead;

    @BeforeAll
    static void start() {
        NativePrerequisites.engineLibrary();
        NativePrerequisites.defaultModel();
        // without prefills ahead (see the last test): what a turn reuses is then exactly what earlier turns left
        shared = service(Map.of("PREFIX_CACHE_PREFILL_AHEAD", "false"));
        off = service(Map.of("PREFIX_CACHE_ENABLED", "false"));
        isolated = service(Map.of("PREFIX_CACHE_SCOPE", "isolated", "PREFIX_CACHE_PREFILL_AHEAD", "false"));
        ahead = service(Map.of());
    }

    private static InferenceService service(Map<String, String> prefixCache) {
        Map<String, String> environment = new java.util.HashMap<>(Map.of("MODEL_PATH",
                System.getProperty("therapeia.test.model"), "WARMUP_REQUESTS", "0", "BATCH_SIZE", "4",
                "MAX_NEW_TOKENS", "16", "MAX_CONTEXT_LENGTH", "512", "ENGINE_THREADS", "1"));
        environment.putAll(prefixCache);
        InferenceConfig config = TestConfig.inference(environment);
        InferenceServiceTest.NoMetrics metrics = new InferenceServiceTest.NoMetrics();
        ModelRuntime runtime = new ModelRuntime(config, metrics);
        runtime.load(Executors.defaultThreadFactory());
        assertEquals(ModelRuntime.State.READY, runtime.state(), String.valueOf(runtime.failure()));
        runtimes.add(runtime);
        // a detector out of time on a busy machine grades a turn at level 2, whose system prompt (the
        // safety addendum) and reply (resources) differ: a test of reuse gives it all the time it needs
        SafetyService safety = new SafetyService(new SafetyConfig(TestConfig.config(Map.of(
                "SAFETY_DETECTOR_TIMEOUT_MS", "60000"))), new NoSafetyMetrics());
        safety.start();
        return new InferenceService(config, runtime, new InferenceServiceTest.MapCache(),
                new LatencyTracker(Duration.ofMinutes(5), System::nanoTime), metrics, safety);
    }

    @AfterAll
    static void stop() {
        runtimes.forEach(ModelRuntime::stop);
    }

    /** A greedy conversation, each turn resending the history with the model's replies; returns each turn's reply. */
    private static List<InferenceResponse> converse(InferenceService service, String cacheSalt) throws Exception {
        List<ChatMessage> history = new ArrayList<>();
        List<InferenceResponse> replies = new ArrayList<>();
        for (String turn : TURNS) {
            InferenceRequest request = new InferenceRequest(turn, List.copyOf(history), null, false, null, 0.0, null,
                    null, null, null).withCacheSalt(cacheSalt);
            InferenceResponse reply = service.infer(request, System.nanoTime()).get(60, TimeUnit.SECONDS);
            replies.add(reply);
            history.add(new ChatMessage(ChatMessage.USER, turn));
            history.add(new ChatMessage(ChatMessage.ASSISTANT, reply.response()));
        }
        return replies;
    }

    @Test
    void laterTurnsReuseTheirHistoryAndReplyAsWithoutTheCache() throws Exception {
        List<InferenceResponse> withCache = converse(shared, null);
        List<InferenceResponse> without = converse(off, null);
        for (int turn = 0; turn < TURNS.size(); turn++) {
            assertEquals(without.get(turn).response(), withCache.get(turn).response(), "turn " + turn);
            assertEquals(without.get(turn).metadata().inputTokens(), withCache.get(turn).metadata().inputTokens());
            assertEquals(0, without.get(turn).metadata().inputTokensReused(), "prefix cache off: nothing reused");
        }
        for (int turn = 1; turn < TURNS.size(); turn++) {
            int reused = withCache.get(turn).metadata().inputTokensReused();
            // at least the whole previous prompt (system prompt, earlier turns), and what of the reply the
            // template renders back as the same tokens
            assertTrue(reused >= withCache.get(turn - 1).metadata().inputTokens(),
                    "turn " + turn + " reused " + reused + " prompt tokens");
            assertTrue(reused < withCache.get(turn).metadata().inputTokens(), "its last prompt token is computed");
        }
    }

    @Test
    void isolatedScopesShareOnlyUnderTheSameCacheSalt() throws Exception {
        InferenceRequest first = new InferenceRequest(TURNS.get(0), List.of(), null, false, null, 0.0, null, null,
                null, null);
        InferenceResponse a = isolated.infer(first.withCacheSalt("alice"), System.nanoTime()).get(60, TimeUnit.SECONDS);
        InferenceResponse b = isolated.infer(first.withCacheSalt("bob"), System.nanoTime()).get(60, TimeUnit.SECONDS);
        InferenceResponse none = isolated.infer(first, System.nanoTime()).get(60, TimeUnit.SECONDS);
        InferenceResponse again = isolated.infer(first.withCacheSalt("alice"), System.nanoTime())
                .get(60, TimeUnit.SECONDS);
        assertEquals(0, a.metadata().inputTokensReused());
        assertEquals(0, b.metadata().inputTokensReused(), "another salt reuses nothing of alice's");
        assertEquals(0, none.metadata().inputTokensReused(), "without a salt nothing is reused");
        assertEquals(again.metadata().inputTokens() - 1, again.metadata().inputTokensReused(),
                "the same salt reuses all of its own prompt but the last token");
        assertEquals(a.response(), again.response());
    }

    @Test
    void isolatedScopesShareResponseCacheEntriesOnlyUnderTheSameCacheSalt() throws Exception {
        // a hit would tell bob, or anyone without a salt, that alice sent this conversation
        InferenceRequest request = new InferenceRequest("A reply only carol's salt may read.", List.of(), null,
                true, null, 0.0, null, null, null, null);
        assertFalse(isolated.infer(request.withCacheSalt("carol"), System.nanoTime()).get(60, TimeUnit.SECONDS)
                .cacheHit());
        assertTrue(isolated.infer(request.withCacheSalt("carol"), System.nanoTime()).get(60, TimeUnit.SECONDS)
                .cacheHit(), "the same salt shares its entries");
        assertFalse(isolated.infer(request.withCacheSalt("dave"), System.nanoTime()).get(60, TimeUnit.SECONDS)
                .cacheHit(), "another salt does not");
        for (int i = 0; i < 2; i++) {
            assertFalse(isolated.infer(request, System.nanoTime()).get(60, TimeUnit.SECONDS).cacheHit(),
                    "a request without a salt neither reads nor writes the cache");
        }
    }

    /**
     * Twelve turns with the default history window (10 messages, step 6): every turn whose window
     * kept its start reuses all that the previous turn left in its slot (its prompt, and its reply
     * but the last sampled token), so the reply as the client resends it tokenises back to the ids
     * the engine generated; the turns where the start moved (7 and 10) reuse only the system prompt.
     */
    /** Twelve messages, none shared with the other tests' conversations. */
    private static final List<String> LONG_CONVERSATION = List.of("I've been on edge for weeks.", "It's worse in the evenings.",
                "Work has been a lot.", "I lie awake at night.", "My partner says I should relax.",
                "I used to run in the mornings.", "I have been cooking more.",
                "Writing things down helped once.", "I don't want to worry my friends.",
                "Maybe I could run again this week.", "What would a small first step be?", "Thank you.");

    @Test
    void aLongConversationReusesAllTheSlotHeldExceptWhereTheWindowsStartMoves() throws Exception {
        List<String> inputs = LONG_CONVERSATION;
        List<ChatMessage> history = new ArrayList<>();
        InferenceResponse previous = null;
        List<Integer> moved = new ArrayList<>();
        for (int turn = 1; turn <= inputs.size(); turn++) {
            InferenceRequest request = new InferenceRequest(inputs.get(turn - 1), List.copyOf(history), null, false,
                    null, 0.0, null, null, null, null);
            InferenceResponse reply = shared.infer(request, System.nanoTime()).get(60, TimeUnit.SECONDS);
            int kept = reply.metadata().historyMessages();
            if (previous != null) {
                int held = previous.metadata().inputTokens() + previous.tokensGenerated() - 1;
                int reused = reply.metadata().inputTokensReused();
                if (kept == previous.metadata().historyMessages() + 2) {
                    assertEquals(held, reused, "turn " + turn + ": all that the previous turn's slot held");
                } else {
                    moved.add(turn);
                    assertTrue(reused < previous.metadata().inputTokens(), "turn " + turn + " reused " + reused);
                }
            }
            previous = reply;
            history.add(new ChatMessage(ChatMessage.USER, inputs.get(turn - 1)));
            history.add(new ChatMessage(ChatMessage.ASSISTANT, reply.response()));
        }
        assertEquals(List.of(7, 10), moved, "the window's start moved before these turns only");
    }

    /**
     * The same twelve turns with prefills ahead (the default) and a pause after each reply (the
     * person reads and types): the turns where the window's start moves (7 and 10) find their new
     * beginning warm, all of the prompt but their own message's turn, and every reply is the one
     * the engine gives without any reuse.
     */
    @Test
    void aheadOfTheTurnsWhereTheWindowMovesItsNewBeginningIsPrefilledWhileThePersonTypes() throws Exception {
        Scheduler scheduler = runtimes.get(3).ready().scheduler();
        List<ChatMessage> history = new ArrayList<>();
        List<ChatMessage> historyOff = new ArrayList<>();
        for (int turn = 1; turn <= LONG_CONVERSATION.size(); turn++) {
            String input = LONG_CONVERSATION.get(turn - 1);
            InferenceResponse reply = ahead.infer(new InferenceRequest(input, List.copyOf(history), null, false,
                    null, 0.0, null, null, null, null), System.nanoTime()).get(60, TimeUnit.SECONDS);
            InferenceResponse cold = off.infer(new InferenceRequest(input, List.copyOf(historyOff), null, false,
                    null, 0.0, null, null, null, null), System.nanoTime()).get(60, TimeUnit.SECONDS);
            assertEquals(cold.response(), reply.response(), "turn " + turn);
            assertEquals(cold.metadata().inputTokens(), reply.metadata().inputTokens(), "turn " + turn);
            if (turn == 7 || turn == 10) {
                int ownTurn = reply.metadata().inputTokens() - reply.metadata().inputTokensReused();
                assertTrue(ownTurn > 0 && ownTurn <= 40, "turn " + turn + " computed " + ownTurn + " of "
                        + reply.metadata().inputTokens() + " prompt tokens");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (scheduler.hasWork() && System.nanoTime() < deadline) { // the person reads and types
                Thread.sleep(5);
            }
            assertFalse(scheduler.hasWork(), "turn " + turn + ": the prefill ahead ended");
            history.add(new ChatMessage(ChatMessage.USER, input));
            history.add(new ChatMessage(ChatMessage.ASSISTANT, reply.response()));
            historyOff.add(new ChatMessage(ChatMessage.USER, input));
            historyOff.add(new ChatMessage(ChatMessage.ASSISTANT, cold.response()));
        }
    }
}
