package org.therapeia.benchmark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends the inputs: one after another (sequential), or from C threads each sending its next
 * request as soon as its last one is answered (concurrent: at most C in flight, as the seed's
 * semaphore-bounded gather). Input i always goes out as request i, so a seed names the workload.
 */
public final class BenchmarkRunner {

    /** Sends one request; must not throw for what the service answers. */
    @FunctionalInterface
    public interface Sender {
        RequestOutcome send(RequestInput input);
    }

    /**
     * What a run gave.
     *
     * @param outcomes  outcome i belongs to input i
     * @param wallNanos from the first request sent to the last one completed
     */
    public record RunResult(List<RequestOutcome> outcomes, long wallNanos) {
    }

    private BenchmarkRunner() {
    }

    static RunResult run(List<RequestInput> inputs, int concurrency, Sender sender, Progress progress)
            throws InterruptedException {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1");
        }
        RequestOutcome[] outcomes = new RequestOutcome[inputs.size()];
        long start = System.nanoTime();
        if (concurrency == 1) {
            for (int i = 0; i < inputs.size(); i++) {
                outcomes[i] = sendSafely(sender, inputs.get(i));
                progress.completed(outcomes[i]);
            }
        } else {
            AtomicInteger next = new AtomicInteger();
            int threads = Math.min(concurrency, inputs.size());
            ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "benchmark-sender");
                t.setDaemon(true);
                return t;
            });
            try {
                for (int t = 0; t < threads; t++) {
                    pool.execute(() -> {
                        for (int i = next.getAndIncrement(); i < inputs.size(); i = next.getAndIncrement()) {
                            outcomes[i] = sendSafely(sender, inputs.get(i));
                            progress.completed(outcomes[i]);
                        }
                    });
                }
                pool.shutdown();
                // every request has its own timeout, so the pool always drains
                while (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    Thread.onSpinWait();
                }
            } finally {
                pool.shutdownNow();
            }
        }
        long wall = System.nanoTime() - start;
        return new RunResult(new ArrayList<>(Arrays.asList(outcomes)), wall);
    }

    private static RequestOutcome sendSafely(Sender sender, RequestInput input) {
        long start = System.nanoTime();
        try {
            return sender.send(input);
        } catch (RuntimeException e) {
            return RequestOutcome.failed(0, RequestOutcome.CLIENT_ERROR, System.nanoTime() - start);
        }
    }
}
