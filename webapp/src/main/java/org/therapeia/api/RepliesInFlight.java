package org.therapeia.api;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts the inference requests whose answer is not written yet, so that a stop can wait for the
 * replies of the generations it drained: they still decode their text (with the tokenizer the
 * stop is about to close) and write it (through Jersey, which goes once the stop returns).
 */
@ApplicationScoped
public class RepliesInFlight {

    private int count; // guarded by this

    /** One more request being answered; run what this returns once its answer is written (once is enough). */
    public Runnable begin() {
        synchronized (this) {
            count++;
        }
        AtomicBoolean ended = new AtomicBoolean();
        return () -> {
            if (ended.compareAndSet(false, true)) {
                end();
            }
        };
    }

    private synchronized void end() {
        count--;
        if (count == 0) {
            notifyAll();
        }
    }

    /** Waits until no answer is being written, up to {@code limit}; whether none is. */
    public synchronized boolean awaitNone(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (count > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
