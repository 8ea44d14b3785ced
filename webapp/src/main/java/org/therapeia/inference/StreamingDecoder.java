package org.therapeia.inference;

import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns one sequence's tokens into pieces of text as they are generated, for a streamed reply.
 *
 * <p>The engine thread only queues each token ({@link #onToken}); decoding and delivery run on
 * {@code executor}, one drain at a time, so the engine never waits for the tokenizer or a socket.
 * Each drain decodes every token so far (a token may complete a character or a word only in
 * context, and decoding the whole keeps the pieces consistent with the final decode) and hands on
 * what is new: quadratic in the reply's length, but a decode of a thousand tokens takes about
 * 0.1 ms in the Rust tokenizer (75 us measured through its Python binding), so a 1000-token reply
 * costs some 40 ms of decoding in all, spread over its generation and off the engine thread. The pieces concatenate to exactly the final reply, which is
 * stripped: whitespace at either end is held back, and so is a trailing U+FFFD (a character whose
 * bytes have not all arrived). Should a longer decode ever not extend what was sent (a tokenizer
 * clean-up rule across the boundary), nothing more is sent; the final reply stays authoritative.
 * A drain that adds no text (special tokens, whitespace so far) hands on an empty piece, so that
 * a streaming caller still writes and so still learns when its client has gone; so does each
 * notice that the request still waits for a slot ({@link #onWaiting}), so that a client that left
 * while its request was queued is found out before the request takes a slot.
 *
 * <p>With stop strings, the text that could still grow into one is held back as well, so no
 * piece of a stop string is ever sent; once one appears, the text before it is the last sent,
 * {@link #stopRequested()} turns true (the scheduler then ends the generation) and
 * {@link #tokensAtStop()} tells how many tokens it took.
 */
final class StreamingDecoder implements TokenListener {

    private static final char INCOMPLETE = '\uFFFD';

    private final Function<int[], String> decode;
    private final Consumer<String> pieces;
    private final Executor executor;
    private final StopStrings stops;
    private volatile boolean stopRequested;
    private final Queue<Integer> arrived = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();

    // guarded by this
    private int[] tokens = new int[64];
    private int tokenCount;
    private String sent = "";
    private boolean finished;
    private boolean diverged;
    private int tokensAtStop = -1;

    /**
     * @param decode   token ids to text (the model's tokenizer, special tokens skipped)
     * @param pieces   hears each new piece of text, in order, never two at once
     * @param executor runs the drains
     */
    StreamingDecoder(Function<int[], String> decode, Consumer<String> pieces, Executor executor) {
        this(decode, pieces, executor, StopStrings.NONE);
    }

    /** @param stops the request's stop strings */
    StreamingDecoder(Function<int[], String> decode, Consumer<String> pieces, Executor executor, StopStrings stops) {
        this.decode = decode;
        this.pieces = pieces;
        this.executor = executor;
        this.stops = stops;
    }

    @Override
    public boolean stopRequested() {
        return stopRequested;
    }

    /** The tokens decoded when a stop string was first seen, or -1 when none was. */
    synchronized int tokensAtStop() {
        return tokensAtStop;
    }

    @Override
    public void onToken(int token) {
        arrived.add(token);
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) { // shutting down: the final reply still says it all
                drainScheduled.set(false);
            }
        }
    }

    @Override
    public void onWaiting() {
        try {
            executor.execute(this::stillWaiting);
        } catch (RejectedExecutionException e) { // shutting down: the request fails or finishes soon anyway
        }
    }

    /** An empty piece while nothing has been generated yet: a write that finds out whether the client is there. */
    synchronized void stillWaiting() {
        if (!finished && tokenCount == 0 && arrived.isEmpty()) {
            pieces.accept("");
        }
    }

    /** Decodes what has arrived and hands on the new stable text. */
    synchronized void drain() {
        drainScheduled.set(false); // before taking: a token queued from here on schedules another drain
        for (Integer token = arrived.poll(); token != null; token = arrived.poll()) {
            if (tokenCount == tokens.length) {
                tokens = Arrays.copyOf(tokens, tokenCount * 2);
            }
            tokens[tokenCount++] = token;
        }
        // past a stop string nothing more is sent: the tokens after it are not part of the reply
        if (!finished && tokensAtStop < 0 && tokenCount > 0
                && !send(stablePrefix(visible(decode.apply(Arrays.copyOf(tokens, tokenCount)))))) {
            pieces.accept(""); // tokens without new text still reach the caller: a stream's writes find a client gone
        }
    }

    /** The decoded text up to a stop string, or without what could still become one. */
    private String visible(String decoded) {
        if (stops.isEmpty()) {
            return decoded;
        }
        int stop = stops.firstMatch(decoded);
        if (stop >= 0) {
            tokensAtStop = tokenCount;
            stopRequested = true;
            return decoded.substring(0, stop);
        }
        return decoded.substring(0, decoded.length() - stops.holdBack(decoded));
    }

    /**
     * Hands on whatever of {@code reply} (the final, stripped text) has not been sent, and ends the
     * stream: drains that run later send nothing.
     */
    synchronized void finish(String reply) {
        if (!finished) {
            finished = true;
            send(reply);
        }
    }

    /** Ends the stream without a final text (the generation failed): drains that run later send nothing. */
    synchronized void stop() {
        finished = true;
    }

    /** Sends what {@code text} adds to what was sent; false when it adds nothing. */
    private boolean send(String text) {
        if (diverged || text.length() <= sent.length()) {
            return false;
        }
        if (!text.startsWith(sent)) {
            diverged = true;
            return false;
        }
        String piece = text.substring(sent.length());
        sent = text;
        pieces.accept(piece);
        return true;
    }

    /** The decoded text without what could still change: whitespace at the ends, an unfinished character. */
    static String stablePrefix(String decoded) {
        int end = decoded.length();
        while (end > 0 && (decoded.charAt(end - 1) == INCOMPLETE || Character.isWhitespace(decoded.charAt(end - 1)))) {
            end--;
        }
        return decoded.substring(0, end).strip();
    }
}
