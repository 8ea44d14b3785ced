package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.therapeia.Fixtures;
import org.therapeia.NativePrerequisites;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineException;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;

/** The scheduler over the real native engine and the tiny Llama fixture (vocabulary 32, context 64). */
class SchedulerTest {

    private static final Duration LONG = Duration.ofMinutes(5);
    private static final int EOS = 2;

    private Engine engine;
    private Scheduler scheduler;

    @BeforeAll
    static void nativeLibraryBuilt() {
        NativePrerequisites.engineLibrary();
    }

    @BeforeEach
    void open() {
        engine = Engine.open(new EngineOptions(Fixtures.tinyLlama(), "float32", "cpu", 4, 64, 1, true));
    }

    @AfterEach
    void close() {
        if (scheduler != null) {
            scheduler.close();
        }
        engine.close();
    }

    private Scheduler scheduler(int queueCapacity, AtomicLong clock, SchedulerListener listener) {
        scheduler = new Scheduler(engine, 4, queueCapacity, Executors.defaultThreadFactory(),
                clock == null ? System::nanoTime : clock::get, listener);
        return scheduler;
    }

    /** Waits (up to 30 s) for the engine thread to end the turn that emptied the engine. */
    private void awaitNothingRunning() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (scheduler.running() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, scheduler.running());
    }

    /** Greedy decoding by full forward passes: the reference the batched, cached engine must match. */
    private int[] greedyByLogits(int[] prompt, int maxNewTokens) {
        List<Integer> seq = new ArrayList<>();
        for (int id : prompt) {
            seq.add(id);
        }
        List<Integer> out = new ArrayList<>();
        while (out.size() < maxNewTokens && seq.size() < 64) {
            float[][] logits = engine.logits(seq.stream().mapToInt(Integer::intValue).toArray());
            float[] last = logits[logits.length - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) {
                if (last[v] > last[best]) {
                    best = v;
                }
            }
            out.add(best);
            seq.add(best);
            if (best == EOS) {
                break;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void greedyGenerationsInOneBatchMatchFullForwardGreedy() throws Exception {
        int[][] prompts = {{3, 10, 17}, {5, 6}, {7, 8, 9, 11, 12}, {20, 21, 22, 23}, {4}, {30, 29, 28}};
        int[][] expected = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            expected[i] = greedyByLogits(prompts[i], 12);
        }
        AtomicInteger maxBatch = new AtomicInteger();
        scheduler(16, null, new SchedulerListener() {
            @Override
            public void onStep(int batchSize, int tokens, long nanos) {
                maxBatch.accumulateAndGet(batchSize, Math::max);
            }
        });
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        for (int[] p : prompts) { // queued before the thread starts: they share batches
            futures.add(scheduler.submit(p, SamplingParams.greedy(12), LONG));
        }
        scheduler.start();
        for (int i = 0; i < prompts.length; i++) {
            Generation g = futures.get(i).get(60, TimeUnit.SECONDS);
            assertArrayEquals(expected[i], g.tokens(), "prompt " + Arrays.toString(prompts[i]));
            assertEquals(g.tokens()[g.tokens().length - 1] == EOS, g.stoppedByEos());
            assertTrue(g.firstTokenNanos() >= 0 && g.generationNanos() >= 0);
        }
        assertTrue(maxBatch.get() > 1, "batches of " + maxBatch.get());
        awaitNothingRunning(); // the last future completes before the engine thread ends its turn
        assertEquals(0, engine.stats().running());
    }

    /** Waits (up to 30 s) until the engine runs nothing and holds {@code warm} warm slots. */
    private void awaitWarmSlots(int warm) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((engine.stats().running() > 0 || engine.stats().warmSlots() < warm) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(warm, engine.stats().warmSlots());
    }

    @Test
    void aPrefillAheadLeavesAPromptsBeginningWarmForTheRequestThatStartsWithIt() throws Exception {
        int[] start = {3, 10, 17, 5, 6, 7, 8, 9, 11, 12, 13, 14};
        int[] prompt = {3, 10, 17, 5, 6, 7, 8, 9, 11, 12, 13, 14, 20, 21};
        int[] expected = greedyByLogits(prompt, 6);
        scheduler(16, null, SchedulerListener.NONE).start();
        scheduler.prefillAhead(start, Engine.SHARED_SCOPE);
        awaitWarmSlots(1);
        assertEquals(0, scheduler.running(), "a prefill ahead is no request");
        Generation g = scheduler.submit(prompt, SamplingParams.greedy(6), LONG).get(60, TimeUnit.SECONDS);
        assertEquals(start.length, g.promptTokensReused());
        assertArrayEquals(expected, g.tokens());
    }

    @Test
    void requestsGoBeforeAPrefillAheadAndReplyAsWithoutIt() throws Exception {
        int[][] prompts = {{3, 10, 17}, {5, 6}, {7, 8, 9, 11, 12}, {20, 21, 22, 23}, {4}, {30, 29, 28}};
        int[] start = {25, 26, 27, 24, 19, 18, 16, 15};
        scheduler(16, null, SchedulerListener.NONE);
        scheduler.prefillAhead(start, Engine.SHARED_SCOPE);
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        for (int[] p : prompts) { // six requests for four slots, waiting before the thread starts
            futures.add(scheduler.submit(p, SamplingParams.greedy(8), LONG));
        }
        scheduler.start();
        for (int i = 0; i < prompts.length; i++) {
            assertArrayEquals(greedyByLogits(prompts[i], 8), futures.get(i).get(60, TimeUnit.SECONDS).tokens(),
                    "prompt " + Arrays.toString(prompts[i]));
            assertEquals(0, futures.get(i).get().promptTokensReused());
        }
        // the prefill ahead ran once the requests had their slots; it leaves its prompt warm
        assertWarmForTheNextTurn(start, 4);
    }

    /** Once the engine holds {@code warmSlots} warm slots, a prompt that goes on from {@code start} reuses all of it. */
    private void assertWarmForTheNextTurn(int[] start, int warmSlots) throws Exception {
        awaitWarmSlots(warmSlots);
        int[] next = Arrays.copyOf(start, start.length + 1);
        next[start.length] = 14;
        Generation g = scheduler.submit(next, SamplingParams.greedy(4), LONG).get(60, TimeUnit.SECONDS);
        assertEquals(start.length, g.promptTokensReused());
    }

    @Test
    void aPrefillAheadRunsBesideARunningRequestAfterItsFirstTokenAndLeavesItsTokensAsTheyWere() throws Exception {
        int[] prompt = {3, 10, 17};
        int[] start = {25, 26, 27, 24, 19, 18, 16, 15};
        int[] expected = greedyByLogits(prompt, 12);
        List<Integer> batches = new CopyOnWriteArrayList<>();
        scheduler(16, null, new SchedulerListener() {
            @Override
            public void onStep(int batchSize, int tokens, long nanos) {
                batches.add(batchSize);
            }
        });
        CompletableFuture<Generation> running = scheduler.submit(prompt, SamplingParams.greedy(12), LONG);
        scheduler.prefillAhead(start, Engine.SHARED_SCOPE); // both wait before the thread starts
        scheduler.start();
        assertArrayEquals(expected, running.get(60, TimeUnit.SECONDS).tokens());
        assertEquals(1, batches.get(0), "the request's first token came alone");
        assertEquals(2, batches.get(1), "the prefill ahead shared the request's second step");
        assertWarmForTheNextTurn(start, 2);
    }

    @Test
    void aRequestWhosePromptStartsWithAWaitingPrefillAheadComputesItInstead() throws Exception {
        int[] start = {25, 26, 27, 24, 19, 18, 16, 15};
        int[] prompt = {25, 26, 27, 24, 19, 18, 16, 15, 14, 13};
        scheduler(16, null, SchedulerListener.NONE);
        scheduler.prefillAhead(start, Engine.SHARED_SCOPE);
        CompletableFuture<Generation> request = scheduler.submit(prompt, SamplingParams.greedy(4), LONG);
        scheduler.start();
        assertArrayEquals(greedyByLogits(prompt, 4), request.get(60, TimeUnit.SECONDS).tokens());
        assertEquals(0, request.get().promptTokensReused());
        awaitWarmSlots(1); // the request's slot only: the prefill ahead never ran
        awaitNothingRunning(); // the engine's stats change before the engine thread publishes its counts
        assertFalse(scheduler.hasWork());
    }

    @Test
    void aRequestOfAnotherScopeLeavesAPrefillAheadItCannotUse() throws Exception {
        int[] start = {25, 26, 27, 24, 19, 18, 16, 15};
        long owner = 7, other = 8; // e.g. two cache salts: neither reads the other's warm KV
        scheduler(16, null, SchedulerListener.NONE);
        scheduler.prefillAhead(start, owner);
        CompletableFuture<Generation> stranger = scheduler.submit(new int[] {25, 26, 27, 24, 19, 18, 16, 15, 14},
                SamplingParams.greedy(4), LONG, other, TokenListener.NONE);
        scheduler.start();
        assertEquals(0, stranger.get(60, TimeUnit.SECONDS).promptTokensReused());
        awaitWarmSlots(2); // the stranger's slot and the prefill ahead's
        Generation g = scheduler.submit(new int[] {25, 26, 27, 24, 19, 18, 16, 15, 13}, SamplingParams.greedy(4), LONG,
                owner, TokenListener.NONE).get(60, TimeUnit.SECONDS);
        assertEquals(start.length, g.promptTokensReused(), "the owner's next turn finds its prefill ahead warm");
    }

    @Test
    void atMostOnePrefillAheadPerSlotWaitsTheOldestGoFirst() throws Exception {
        scheduler(16, null, SchedulerListener.NONE); // not started: the prefills ahead wait
        for (int i = 0; i < 6; i++) {
            scheduler.prefillAhead(new int[] {3 + i, 10, 17}, Engine.SHARED_SCOPE);
        }
        scheduler.start();
        awaitWarmSlots(4); // four slots: the first two were pushed out, the last four ran
        for (int i : new int[] {2, 3, 4, 5, 0, 1}) { // each of the four continues in its own warm slot
            Generation g = scheduler.submit(new int[] {3 + i, 10, 17, 20}, SamplingParams.greedy(1), LONG)
                    .get(60, TimeUnit.SECONDS);
            assertEquals(i < 2 ? 0 : 3, g.promptTokensReused(), "prefill ahead " + i);
        }
    }

    @Test
    void aPrefillAheadPastItsTimeLeavesUnnoticedNotCountedAsADroppedRequest() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        DropCounter drops = new DropCounter();
        scheduler(16, clock, drops);
        scheduler.prefillAhead(new int[] {3, 10, 17}, Engine.SHARED_SCOPE);
        clock.addAndGet(Duration.ofMinutes(2).toNanos()); // it waited past its minute (every slot busy, say)
        CompletableFuture<Generation> request = scheduler.submit(new int[] {5}, SamplingParams.greedy(3),
                Duration.ofDays(1));
        scheduler.start(); // once the request has its first token, the prefill ahead's turn: found dead
        assertTrue(request.get(60, TimeUnit.SECONDS).tokens().length >= 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (scheduler.hasWork() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertFalse(scheduler.hasWork(), "the prefill ahead was taken");
        assertEquals(0, drops.pastDeadline.get(), "no request was dropped past its deadline");
        assertEquals(0, drops.cancelled.get());
    }

    @Test
    void sameSeedSameSample() throws Exception {
        scheduler(16, null, SchedulerListener.NONE).start();
        SamplingParams sampled = new SamplingParams(16, 0.9, 10, 0.95, 1.1, 1234);
        int[] a = scheduler.submit(new int[] {3, 10, 17}, sampled, LONG).get(60, TimeUnit.SECONDS).tokens();
        int[] b = scheduler.submit(new int[] {3, 10, 17}, sampled, LONG).get(60, TimeUnit.SECONDS).tokens();
        assertArrayEquals(a, b);
    }

    @Test
    void fullQueueRefuses() {
        scheduler(2, null, SchedulerListener.NONE); // not started: nothing leaves the queue
        scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG);
        scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG);
        assertEquals(2, scheduler.queueDepth());
        assertThrows(QueueFullException.class, () -> scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG));
    }

    @Test
    void requestPastItsDeadlineWhileWaitingNeverRuns() {
        scheduler(4, null, SchedulerListener.NONE);
        CompletableFuture<Generation> f = scheduler.submit(new int[] {3}, SamplingParams.greedy(4), Duration.ofNanos(1));
        scheduler.start();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
        assertInstanceOf(GenerationTimeoutException.class, e.getCause());
    }

    @Test
    void runningRequestPastItsDeadlineIsCancelledInTheEngine() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        scheduler(4, clock, new SchedulerListener() {
            @Override
            public void onStep(int batchSize, int tokens, long nanos) {
            }

            @Override
            public void onPromptTokens(int reused, int computed) { // at the first token
                clock.addAndGet(Duration.ofHours(1).toNanos()); // time flies once it has started
            }
        });
        SamplingParams long60 = new SamplingParams(60, 0.0, 0, 1.0, 1.0, 0);
        CompletableFuture<Generation> f = scheduler.submit(new int[] {3, 10, 17}, long60, Duration.ofSeconds(10));
        scheduler.start();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
        assertInstanceOf(GenerationTimeoutException.class, e.getCause());
        // the slot is free again: a new request runs to completion
        Generation g = scheduler.submit(new int[] {5}, SamplingParams.greedy(3), Duration.ofDays(1)).get(60,
                TimeUnit.SECONDS);
        assertTrue(g.tokens().length >= 1);
        assertEquals(4, scheduler.stats().freeSlots());
    }

    @Test
    void listenerHearsEveryTokenInOrderBeforeTheFutureCompletes() throws Exception {
        scheduler(4, null, SchedulerListener.NONE).start();
        List<Integer> heard = new ArrayList<>();
        CompletableFuture<Generation> f = scheduler.submit(new int[] {3, 10, 17}, SamplingParams.greedy(12), LONG,
                heard::add); // engine thread only: no lock needed
        int[] tokens = f.get(60, TimeUnit.SECONDS).tokens();
        assertArrayEquals(tokens, heard.stream().mapToInt(Integer::intValue).toArray());
    }

    @Test
    void cancelledRequestLeavesTheEngineAtTheNextTurn() throws Exception {
        scheduler(4, null, SchedulerListener.NONE).start();
        AtomicInteger heard = new AtomicInteger();
        CompletableFuture<CompletableFuture<Generation>> holder = new CompletableFuture<>();
        SamplingParams long60 = new SamplingParams(60, 0.0, 0, 1.0, 1.0, 0);
        CompletableFuture<Generation> f = scheduler.submit(new int[] {3, 10, 17}, long60, LONG, token -> {
            if (heard.incrementAndGet() == 3) {
                holder.join().cancel(false); // the client goes after the third token
            }
        });
        holder.complete(f);
        assertThrows(CancellationException.class, () -> f.get(60, TimeUnit.SECONDS));
        awaitNothingRunning();
        assertEquals(4, scheduler.stats().freeSlots());
        assertEquals(3, heard.get(), "no token after the cancel");
    }

    @Test
    void cancelledWhileWaitingNeverRuns() throws Exception {
        scheduler(4, null, SchedulerListener.NONE);
        AtomicInteger heard = new AtomicInteger();
        CompletableFuture<Generation> f = scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG,
                token -> heard.incrementAndGet());
        f.cancel(false);
        scheduler.start();
        scheduler.submit(new int[] {5}, SamplingParams.greedy(3), LONG).get(60, TimeUnit.SECONDS);
        assertEquals(0, heard.get());
    }

    @Test
    void failingListenerIsDroppedAndTheGenerationCompletes() throws Exception {
        scheduler(4, null, SchedulerListener.NONE).start();
        Generation g = scheduler.submit(new int[] {3, 10, 17}, SamplingParams.greedy(8), LONG, token -> {
            throw new IllegalStateException("listener bug");
        }).get(60, TimeUnit.SECONDS);
        assertArrayEquals(greedyByLogits(new int[] {3, 10, 17}, 8), g.tokens());
        assertTrue(scheduler.isThreadAlive());
    }

    @Test
    void badPromptFailsAloneAndTheEngineKeepsServing() throws Exception {
        scheduler(4, null, SchedulerListener.NONE).start();
        CompletableFuture<Generation> bad = scheduler.submit(new int[] {999}, SamplingParams.greedy(4), LONG);
        ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(60, TimeUnit.SECONDS));
        assertInstanceOf(EngineException.class, e.getCause());
        int[] tooLong = new int[70];
        Arrays.fill(tooLong, 3);
        ExecutionException e2 = assertThrows(ExecutionException.class,
                () -> scheduler.submit(tooLong, SamplingParams.greedy(4), LONG).get(60, TimeUnit.SECONDS));
        assertInstanceOf(EngineException.class, e2.getCause());
        assertArrayEquals(greedyByLogits(new int[] {3, 10, 17}, 5),
                scheduler.submit(new int[] {3, 10, 17}, SamplingParams.greedy(5), LONG).get(60, TimeUnit.SECONDS)
                        .tokens());
    }

    @Test
    void closeFailsWaitingRequestsAndRefusesNewOnes() {
        scheduler(4, null, SchedulerListener.NONE);
        CompletableFuture<Generation> waiting = scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG);
        scheduler.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
        assertInstanceOf(SchedulerClosedException.class, e.getCause());
        assertThrows(SchedulerClosedException.class,
                () -> scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG));
    }

    @Test
    void heartbeatAdvancesWhileIdle() throws Exception {
        scheduler(4, null, SchedulerListener.NONE).start();
        long first = scheduler.heartbeatNanos();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (scheduler.heartbeatNanos() == first && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(scheduler.heartbeatNanos() != first);
        assertTrue(scheduler.isThreadAlive());
    }

    /** Counts the drops the scheduler reports. */
    private static final class DropCounter implements SchedulerListener {
        final AtomicInteger pastDeadline = new AtomicInteger();
        final AtomicInteger cancelled = new AtomicInteger();

        @Override
        public void onStep(int batchSize, int tokens, long nanos) {
        }

        @Override
        public void onDropped(DropReason reason) {
            (reason == DropReason.DEADLINE ? pastDeadline : cancelled).incrementAndGet();
        }
    }

    /** A token listener that holds the engine thread at its n-th token until released. */
    private static final class Gate implements TokenListener {
        final int atToken;
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger heard = new AtomicInteger();

        Gate(int atToken) {
            this.atToken = atToken;
        }

        @Override
        public void onToken(int token) {
            if (heard.incrementAndGet() == atToken) {
                reached.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        void awaitReached() throws InterruptedException {
            assertTrue(reached.await(60, TimeUnit.SECONDS), "the engine thread reached token " + atToken);
        }
    }

    private static Throwable failureOf(CompletableFuture<Generation> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void shutdownLetsTakenGenerationsFinishAndRefusesNewOnes() throws Exception {
        int[][] prompts = {{3, 10, 17}, {5, 6}, {7, 8, 9, 11, 12}, {20, 21, 22, 23}, {4}, {30, 29, 28}};
        scheduler(16, null, SchedulerListener.NONE);
        List<CompletableFuture<Generation>> taken = new ArrayList<>();
        for (int[] p : prompts) { // six for four slots: two still wait when the shutdown begins
            taken.add(scheduler.submit(p, SamplingParams.greedy(12), LONG));
        }
        scheduler.start();
        assertTrue(scheduler.shutdown(Duration.ofMinutes(5)), "the engine thread ended");
        assertThrows(SchedulerClosedException.class,
                () -> scheduler.submit(new int[] {3}, SamplingParams.greedy(4), LONG));
        for (int i = 0; i < prompts.length; i++) {
            assertTrue(taken.get(i).isDone(), "answered when shutdown returns");
            assertArrayEquals(greedyByLogits(prompts[i], 12), taken.get(i).get().tokens(),
                    "prompt " + Arrays.toString(prompts[i]) + " finished, not cut short");
        }
        assertFalse(scheduler.isThreadAlive());
        assertTrue(scheduler.isShuttingDown());
        assertEquals(0, engine.stats().running(), "nothing left in the engine: it may close");
    }

    @Test
    void whatTheDrainCannotFinishFailsAsShuttingDown() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        scheduler(16, clock, SchedulerListener.NONE);
        SamplingParams long60 = new SamplingParams(60, 0.0, 0, 1.0, 1.0, 0);
        assertTrue(greedyByLogits(new int[] {3, 10, 17}, 60).length >= 3, "the held sequence runs past its 1st token");
        Gate held = new Gate(1);
        CompletableFuture<Generation> running = scheduler.submit(new int[] {3, 10, 17}, long60, LONG, held);
        List<CompletableFuture<Generation>> others = new ArrayList<>();
        for (int i = 0; i < 4; i++) { // three more in the slots, one waiting
            others.add(scheduler.submit(new int[] {5 + i, 6}, long60, LONG));
        }
        scheduler.start();
        held.awaitReached(); // the engine thread is inside its first step's events

        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(
                () -> scheduler.shutdown(Duration.ofSeconds(5)));
        while (!scheduler.isShuttingDown()) {
            Thread.sleep(1);
        }
        clock.addAndGet(Duration.ofHours(1).toNanos()); // the drain's time runs out
        held.release.countDown();

        assertTrue(stopped.get(60, TimeUnit.SECONDS), "the engine thread ended");
        Throwable cause = failureOf(running);
        assertInstanceOf(SchedulerClosedException.class, cause);
        assertInstanceOf(ShuttingDownException.class, cause, "answered as 503 shutting down");
        assertEquals(1, held.heard.get(), "no step after the drain ended");
        for (CompletableFuture<Generation> f : others) { // finished at its first token (EOS), or failed
            assertTrue(f.isDone());
            if (f.isCompletedExceptionally()) {
                assertInstanceOf(SchedulerClosedException.class, failureOf(f));
            }
        }
        assertTrue(others.get(3).isCompletedExceptionally(), "the waiting one never ran");
        assertEquals(0, engine.stats().running(), "the unfinished sequences left the engine");
    }

    @Test
    void aPrefillAheadLeftWaitingByAShutdownIsNoWork() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        scheduler(16, clock, SchedulerListener.NONE);
        Gate held = new Gate(1);
        CompletableFuture<Generation> running = scheduler.submit(new int[] {3, 10, 17},
                new SamplingParams(60, 0.0, 0, 1.0, 1.0, 0), LONG, held);
        scheduler.start();
        held.awaitReached(); // the engine thread is inside its first step's events
        scheduler.prefillAhead(new int[] {5, 6, 7}, Engine.SHARED_SCOPE); // waits for the next turn

        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> scheduler.shutdown(Duration.ZERO));
        while (!scheduler.isShuttingDown()) {
            Thread.sleep(1);
        }
        held.release.countDown(); // the drain is over at once: the thread ends after this turn
        assertTrue(stopped.get(60, TimeUnit.SECONDS), "the engine thread ended");
        assertInstanceOf(SchedulerClosedException.class, failureOf(running));
        // the liveness check reads hasWork() with a heartbeat that no longer moves: work that will
        // never run would report the engine thread as stalled
        assertFalse(scheduler.hasWork(), "a prefill ahead that will never run is no work");
    }

    /**
     * Submits race a shutdown, over and over: each submit is refused (it throws) or returns a
     * future, and every future returned is complete once shutdown has returned and the submits
     * are over: served, failed as shutting down, or refused, never stranded in a queue nobody reads.
     * The submitting threads' clock reads (between a submit's check and its queueing) pause at
     * random, so that submits also land after the shutdown's last look at the queue.
     */
    @Test
    void submitsRacingAShutdownAreAnsweredEveryOne() throws Exception {
        int threads = 8;
        int accepted = 0;
        LongSupplier slowForSubmitters = () -> {
            if (Thread.currentThread().getName().startsWith("submitter")) {
                try {
                    Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return System.nanoTime();
        };
        for (int round = 0; round < 25; round++) {
            Scheduler s = new Scheduler(engine, 4, 64, Executors.defaultThreadFactory(), slowForSubmitters,
                    SchedulerListener.NONE).start();
            scheduler = s;
            ConcurrentLinkedQueue<CompletableFuture<Generation>> futures = new ConcurrentLinkedQueue<>();
            CountDownLatch firstAttempts = new CountDownLatch(threads);
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread thread = new Thread(() -> {
                    boolean first = true;
                    while (true) {
                        try {
                            futures.add(s.submit(new int[] {3, 10, 17}, SamplingParams.greedy(4), LONG));
                        } catch (QueueFullException full) {
                            Thread.yield();
                        } catch (SchedulerClosedException closed) {
                            return;
                        } finally {
                            if (first) {
                                firstAttempts.countDown();
                                first = false;
                            }
                        }
                    }
                }, "submitter-" + t);
                thread.start();
                submitters.add(thread);
            }
            assertTrue(firstAttempts.await(60, TimeUnit.SECONDS));
            Thread.sleep(ThreadLocalRandom.current().nextInt(3));
            Duration drain = round % 2 == 0 ? Duration.ZERO : Duration.ofMillis(20);
            assertTrue(s.shutdown(drain), "round " + round + ": the engine thread ended");
            for (Thread thread : submitters) {
                thread.join(TimeUnit.SECONDS.toMillis(60));
                assertFalse(thread.isAlive());
            }
            for (CompletableFuture<Generation> f : futures) {
                assertTrue(f.isDone(), "round " + round + ": a submitted job was stranded");
                if (f.isCompletedExceptionally()) {
                    assertInstanceOf(SchedulerClosedException.class, failureOf(f));
                }
            }
            accepted += futures.size();
            assertEquals(0, engine.stats().running(), "round " + round + ": nothing left in the engine");
        }
        assertTrue(accepted > 0, "submits came before the shutdowns: " + accepted);
    }

    /**
     * The queue forgets the dead: with every slot busy, a waiting request past its deadline and
     * one given up by its caller are dropped at the engine thread's next turn (the first answered
     * 504 at once, not when a slot frees), are counted, and never reach the engine.
     */
    @Test
    void deadWaitingRequestsAreDroppedBeforeTheyTakeASlot() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        DropCounter drops = new DropCounter();
        scheduler(16, clock, drops);
        SamplingParams long60 = new SamplingParams(60, 0.0, 0, 1.0, 1.0, 0);
        assertTrue(greedyByLogits(new int[] {3, 10, 17}, 60).length >= 3, "the held sequence runs past its 2nd token");
        Gate first = new Gate(1);
        Gate second = new Gate(2);
        CompletableFuture<Generation> held = scheduler.submit(new int[] {3, 10, 17}, long60, Duration.ofDays(1),
                token -> {
                    first.onToken(token);
                    second.onToken(token);
                });
        for (int i = 0; i < 3; i++) { // the other slots
            scheduler.submit(new int[] {5 + i, 6}, long60, Duration.ofDays(1));
        }
        AtomicInteger heardByDead = new AtomicInteger();
        CompletableFuture<Generation> late = scheduler.submit(new int[] {4}, SamplingParams.greedy(4),
                Duration.ofSeconds(10), token -> heardByDead.incrementAndGet());
        CompletableFuture<Generation> givenUp = scheduler.submit(new int[] {4}, SamplingParams.greedy(4),
                Duration.ofDays(1), token -> heardByDead.incrementAndGet());
        scheduler.start();
        first.awaitReached(); // all four slots taken; late and givenUp wait
        assertEquals(2, scheduler.queueDepth());
        clock.addAndGet(Duration.ofHours(1).toNanos()); // late's deadline passes
        givenUp.cancel(false); // its client leaves
        first.release.countDown();

        assertInstanceOf(GenerationTimeoutException.class, failureOf(late));
        second.awaitReached(); // the next step ran without them
        assertFalse(held.isDone(), "dropped while every slot was still busy");
        assertEquals(0, scheduler.queueDepth());
        assertEquals(1, drops.pastDeadline.get());
        assertEquals(1, drops.cancelled.get());
        second.release.countDown();
        held.get(60, TimeUnit.SECONDS);
        awaitNothingRunning();
        assertEquals(0, heardByDead.get(), "neither was prefilled");
        assertEquals(4, scheduler.stats().freeSlots());
    }

    @Test
    void aWaitingRequestHearsThatItStillWaits() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        scheduler(16, clock, SchedulerListener.NONE);
        SamplingParams long60 = new SamplingParams(60, 0.0, 0, 1.0, 1.0, 0);
        Gate held = new Gate(1);
        scheduler.submit(new int[] {3, 10, 17}, long60, Duration.ofDays(1), held);
        for (int i = 0; i < 3; i++) {
            scheduler.submit(new int[] {5 + i, 6}, long60, Duration.ofDays(1));
        }
        AtomicInteger notices = new AtomicInteger();
        AtomicInteger tokens = new AtomicInteger();
        CompletableFuture<Generation> waiting = scheduler.submit(new int[] {4}, SamplingParams.greedy(4),
                Duration.ofDays(1), new TokenListener() {
                    @Override
                    public void onToken(int token) {
                        tokens.incrementAndGet();
                    }

                    @Override
                    public void onWaiting() {
                        assertEquals(0, tokens.get(), "only before its first token");
                        notices.incrementAndGet();
                    }
                });
        scheduler.start();
        held.awaitReached();
        assertEquals(0, notices.get(), "not within its first second");
        clock.addAndGet(Duration.ofSeconds(2).toNanos());
        held.release.countDown();
        waiting.get(60, TimeUnit.SECONDS);
        assertTrue(notices.get() >= 1, "heard that it still waits");
    }
}
