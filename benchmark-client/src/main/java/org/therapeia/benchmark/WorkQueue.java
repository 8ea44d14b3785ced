package org.therapeia.benchmark;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs tasks 0 to n-1 from C threads, each taking the next task as soon as its last one is done:
 * at most C at once, as the seed's semaphore-bounded gather. With C = 1 they run in order in the
 * calling thread. A task here is a request (or a whole conversation), each with its own timeout,
 * so the queue always drains; this waits for it.
 */
final class WorkQueue {

    private WorkQueue() {
    }

    static void run(int tasks, int concurrency, IntConsumer task) throws InterruptedException {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1");
        }
        if (concurrency == 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        int threads = Math.min(concurrency, tasks);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "benchmark-sender");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                        task.accept(i);
                    }
                });
            }
            pool.shutdown();
            while (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                Thread.onSpinWait();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
