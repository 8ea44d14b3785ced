package org.therapeia.benchmark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
        RequestOutcome[] outcomes = new RequestOutcome[inputs.size()];
        long start = System.nanoTime();
        WorkQueue.run(inputs.size(), concurrency, i -> {
            outcomes[i] = sendSafely(sender, inputs.get(i));
            progress.completed(outcomes[i]);
        });
        long wall = System.nanoTime() - start;
        return new RunResult(new ArrayList<>(Arrays.asList(outcomes)), wall);
    }

    /** The sender's outcome; a sender that throws (a client bug, not the service) is a {@link RequestOutcome#CLIENT_ERROR}. */
    static RequestOutcome sendSafely(Sender sender, RequestInput input) {
        long start = System.nanoTime();
        try {
            return sender.send(input);
        } catch (RuntimeException e) {
            return RequestOutcome.failed(0, RequestOutcome.CLIENT_ERROR, System.nanoTime() - start);
        }
    }
}
