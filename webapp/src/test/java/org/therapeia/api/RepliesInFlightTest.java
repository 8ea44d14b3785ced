package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RepliesInFlightTest {

    @Test
    void awaitsTheLastReplyAndCountsEachEndOnce() throws Exception {
        RepliesInFlight replies = new RepliesInFlight();
        assertTrue(replies.awaitNone(Duration.ZERO), "none at first");
        Runnable first = replies.begin();
        Runnable second = replies.begin();
        first.run();
        first.run(); // a second end of the same reply does not end the other one
        assertFalse(replies.awaitNone(Duration.ofMillis(1)), "one still being written");

        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return replies.awaitNone(Duration.ofMinutes(1));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        second.run();
        assertTrue(waiting.get(1, TimeUnit.MINUTES), "the wait ends with the last reply");
    }
}
