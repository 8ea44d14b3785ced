package org.therapeia.safety;

import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A streamed reply at level 2 or more, passed through the output check: the last
 * {@value #HOLD_BACK} characters are held back until more text follows them, so that method,
 * dose or lethality details are caught before they are sent; once caught, nothing more of the
 * model's text is sent and the stream ends with the fallback ({@link #finish}).
 */
public final class GuardedPieces implements Consumer<String> {

    /** Longer than the output patterns' reach, so a detail is whole before any of it leaves. */
    static final int HOLD_BACK = 200;

    private final Consumer<String> downstream;
    private final Predicate<String> mentionsMethod;
    private final StringBuilder text = new StringBuilder();
    private int sent;
    private boolean tripped;

    GuardedPieces(Consumer<String> downstream, Predicate<String> mentionsMethod) {
        this.downstream = downstream;
        this.mentionsMethod = mentionsMethod;
    }

    @Override
    public synchronized void accept(String piece) {
        if (tripped) {
            return;
        }
        text.append(piece);
        if (mentionsMethod.test(text.toString())) {
            tripped = true;
            return;
        }
        int upTo = text.length() - HOLD_BACK;
        if (upTo > sent) {
            downstream.accept(text.substring(sent, upTo));
            sent = upTo;
        } else {
            downstream.accept(""); // still a write: a departed client is noticed
        }
    }

    /**
     * Ends the model's part of the stream: sends what was held back, or nothing when the reply
     * (the final text) gives method details.
     *
     * @return true when the reply must be replaced by the fallback
     */
    public synchronized boolean finish(String reply) {
        if (!tripped && mentionsMethod.test(reply)) {
            tripped = true;
        }
        if (!tripped && reply.length() > sent && reply.startsWith(text.substring(0, sent))) {
            downstream.accept(reply.substring(sent));
        }
        return tripped;
    }
}
