package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
        engine = Engine.open(new EngineOptions(Fixtures.tinyLlama(), "float32", "cpu", 4, 64, 1));
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

            @Override
            public void onFirstToken(long nanos) {
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
            public void onFirstToken(long nanos) {
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
}
