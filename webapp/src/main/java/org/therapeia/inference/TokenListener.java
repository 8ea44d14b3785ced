package org.therapeia.inference;

/**
 * Hears each token of one sequence as the engine produces it, before the sequence's future
 * completes. Called on the engine thread: it must hand the token off and return at once, and it
 * must not throw (a failure is logged and the listener dropped, the generation goes on).
 */
@FunctionalInterface
public interface TokenListener {

    TokenListener NONE = token -> {
    };

    void onToken(int token);

    /**
     * Whether the generation should end now as if complete (a stop string has appeared in the
     * text): the scheduler asks at each turn of its loop, on the engine thread, and ends such a
     * sequence with the tokens it has. Must return at once.
     */
    default boolean stopRequested() {
        return false;
    }

    /**
     * The sequence still waits for a slot; heard about once a second until it is admitted, on the
     * engine thread like {@link #onToken}. A streamed reply writes then, and so learns whether its
     * client is still there before the request takes a slot.
     */
    default void onWaiting() {
    }
}
