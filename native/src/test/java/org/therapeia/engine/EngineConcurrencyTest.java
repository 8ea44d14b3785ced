package org.therapeia.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * close() racing with calls from other threads never crashes the JVM: every call either completes
 * or throws EngineException "engine is closed", and the native engine is freed exactly once.
 */
class EngineConcurrencyTest {

    private static final int[] PROMPT = {3, 10, 17, 24};

    @Test
    void closeRacingWithCallsNeverCrashes() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            for (int round = 0; round < 8; round++) {
                Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model("ferrl-tiny_llama")).withThreads(1));
                CountDownLatch start = new CountDownLatch(1);
                ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                AtomicInteger completed = new AtomicInteger();
                List<Future<?>> workers = new ArrayList<>();
                for (int w = 0; w < 3; w++) {
                    final int kind = w;
                    workers.add(pool.submit(() -> {
                        await(start);
                        for (int i = 0; i < 200; i++) {
                            try {
                                switch (kind) {
                                    case 0:
                                        engine.add(PROMPT, SamplingParams.greedy(4));
                                        engine.step();
                                        break;
                                    case 1:
                                        engine.logits(PROMPT);
                                        break;
                                    default:
                                        engine.stats();
                                        engine.cancel(i);
                                        engine.architecture();
                                        break;
                                }
                                completed.incrementAndGet();
                            } catch (EngineException e) {
                                if (!"engine is closed".equals(e.getMessage())) {
                                    unexpected.add(e);
                                }
                                return;
                            } catch (Throwable t) {
                                unexpected.add(t);
                                return;
                            }
                        }
                    }));
                }
                // two closers race each other and the workers
                final int delayMicros = round * 2000;
                for (int c = 0; c < 2; c++) {
                    workers.add(pool.submit(() -> {
                        await(start);
                        sleepMicros(delayMicros);
                        engine.close();
                    }));
                }
                start.countDown();
                for (Future<?> f : workers) {
                    f.get(120, TimeUnit.SECONDS);
                }
                assertTrue(unexpected.isEmpty(), "unexpected failures: " + unexpected);
                System.out.printf("close after %d us: %d calls completed before it%n", delayMicros, completed.get());
                assertTrue(engine.isClosed());
                engine.close();
            }
        } finally {
            pool.shutdownNow();
        }
        // the library is still usable afterwards
        try (Engine engine = Engine.open(EngineOptions.defaults(Fixtures.model("ferrl-tiny_llama")))) {
            assertEquals(PROMPT.length, engine.logits(PROMPT).length);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepMicros(long micros) {
        long end = System.nanoTime() + micros * 1000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
