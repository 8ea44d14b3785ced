package org.therapeia.inference;

import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Turns one sequence's tokens into pieces of text as they are generated, for a streamed reply.
 *
 * <p>The engine thread only hands each token over ({@link #onToken}): into a buffer, and at most
 * once per {@code pieceInterval} a drain on {@code executor}, which decodes what has arrived and
 * hands the new text on as one piece. With a fast engine the streams' work would otherwise take
 * CPU from it at every token of every sequence (a task, a decode, an event written and flushed, a
 * client parsing it): on a small machine that showed as engine time (issue 16). So a piece
 * carries what came within the interval, which a person reading cannot tell from a piece per
 * token; the first token is drained at once (the time to the first piece stays what it was), and a
 * slow engine, whose tokens come further apart than the interval, still gets a piece per token.
 * Tokens that arrive within the interval of the last drain wait for the next token after it, or
 * for {@link #finish}. Decoding is incremental ({@link IncrementalDecoder}): each drain decodes
 * the new tokens, not the whole reply.
 *
 * <p>The pieces concatenate to exactly the final reply, which is stripped: whitespace at either
 * end is held back (and an unfinished character by the incremental decoder). Should the
 * incremental decode ever stop adding up (a tokenizer clean-up rule across a boundary), no more
 * pieces are sent until {@link #finish}, which sends the rest of the final reply if that extends
 * what was sent; the final reply stays authoritative. A drain that adds no text (special tokens,
 * whitespace so far) hands on an empty piece, so that a streaming caller still writes and so still
 * learns when its client has gone; so does each notice that the request still waits for a slot
 * ({@link #onWaiting}), so that a client that left while its request was queued is found out
 * before the request takes a slot.
 *
 * <p>With stop strings, the text that could still grow into one is held back as well, so no
 * piece of a stop string is ever sent; once one appears, the text before it is the last sent,
 * {@link #stopRequested()} turns true (the scheduler then ends the generation, up to a piece
 * interval later) and {@link #tokensAtStop()} tells how many tokens it took.
 */
final class StreamingDecoder implements TokenListener {

    private final Consumer<String> pieces;
    private final Executor executor;
    private final StopStrings stops;
    private final Arrivals arrivals;
    private volatile boolean stopRequested;

    // guarded by this
    private final IncrementalDecoder decoder;
    private final StringBuilder text = new StringBuilder(); // the reply so far, as decoded: not stripped
    private int sentFrom = -1; // where the sent text begins in text (past leading whitespace); -1 before any
    private int sentEnd;       // where it ends
    private int searchedTo;    // text before this holds no stop string that ends there
    private boolean finished;
    private int tokensAtStop = -1;

    /** A piece per token: for tests of the text, where the interval does not matter. */
    StreamingDecoder(Function<int[], String> decode, Consumer<String> pieces, Executor executor) {
        this(decode, pieces, executor, StopStrings.NONE, System::nanoTime, 0);
    }

    /**
     * @param decode             token ids to text (the model's tokenizer, special tokens skipped)
     * @param pieces             hears each new piece of text, in order, never two at once
     * @param executor           runs the drains
     * @param stops              the request's stop strings
     * @param clock              nanosecond clock (System::nanoTime outside tests)
     * @param pieceIntervalNanos the least time between two drains (0: one per token, as they come)
     */
    StreamingDecoder(Function<int[], String> decode, Consumer<String> pieces, Executor executor, StopStrings stops,
                     LongSupplier clock, long pieceIntervalNanos) {
        this.decoder = new IncrementalDecoder(decode);
        this.pieces = pieces;
        this.executor = executor;
        this.stops = stops;
        this.arrivals = new Arrivals(clock, pieceIntervalNanos);
    }

    @Override
    public boolean stopRequested() {
        return stopRequested;
    }

    /** The tokens decoded when a stop string was first seen, or -1 when none was. */
    synchronized int tokensAtStop() {
        return tokensAtStop;
    }

    /** On the engine thread: buffers the token, and schedules a drain if none is due and the interval has passed. */
    @Override
    public void onToken(int token) {
        if (arrivals.add(token)) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) { // shutting down: the final reply still says it all
                arrivals.drainNotScheduled();
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
        if (!finished && decoder.tokenCount() == 0 && arrivals.isEmpty()) {
            pieces.accept("");
        }
    }

    /** Decodes what has arrived and hands on the new stable text, as one piece. */
    synchronized void drain() {
        int[] arrived = arrivals.take();
        // past a stop string nothing more is sent: the tokens after it are not part of the reply
        if (finished || tokensAtStop >= 0) {
            return;
        }
        for (int token : arrived) {
            decoder.add(token);
        }
        text.append(decoder.next());
        if (decoder.tokenCount() == 0) {
            return;
        }
        if (!decoder.consistent() || !send(stableEnd(visibleEnd()))) {
            pieces.accept(""); // tokens without new text still reach the caller: a stream's writes find a client gone
        }
    }

    /** Where the text ends before a stop string, or before what could still become one. */
    private int visibleEnd() {
        if (stops.isEmpty()) {
            return text.length();
        }
        // a stop string not found before now can only end in the new text
        int from = Math.max(0, searchedTo - (stops.maxLength() - 1));
        String recent = text.substring(from);
        searchedTo = text.length();
        int stop = stops.firstMatch(recent);
        if (stop >= 0) {
            tokensAtStop = decoder.tokenCount();
            stopRequested = true;
            return from + stop;
        }
        return text.length() - stops.holdBack(recent);
    }

    /** {@code end} without the whitespace before it, which may yet end the (stripped) reply. */
    private int stableEnd(int end) {
        if (sentFrom < 0) { // the stripped reply starts past the leading whitespace
            int start = 0;
            while (start < end && Character.isWhitespace(text.charAt(start))) {
                start++;
            }
            if (start == end) {
                return -1;
            }
            sentFrom = start;
            sentEnd = start;
        }
        while (end > sentEnd && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        return end;
    }

    /** Sends text[sentEnd, end) as one piece; false when that is empty. */
    private boolean send(int end) {
        if (end <= sentEnd) {
            return false;
        }
        String piece = text.substring(sentEnd, end);
        sentEnd = end;
        pieces.accept(piece);
        return true;
    }

    /**
     * Hands on whatever of {@code reply} (the final, stripped text) has not been sent, if it
     * extends what was, and ends the stream: drains that run later send nothing.
     */
    synchronized void finish(String reply) {
        if (finished) {
            return;
        }
        finished = true;
        int sentLength = sentFrom < 0 ? 0 : sentEnd - sentFrom;
        if (reply.length() > sentLength
                && (sentLength == 0 || reply.regionMatches(0, text.substring(sentFrom, sentEnd), 0, sentLength))) {
            pieces.accept(reply.substring(sentLength));
        }
    }

    /** Ends the stream without a final text (the generation failed): drains that run later send nothing. */
    synchronized void stop() {
        finished = true;
    }

    /**
     * The tokens handed over by the engine thread and not yet drained, and when a drain may next
     * be scheduled. Its lock is held only to add or take tokens, never while decoding.
     */
    private static final class Arrivals {
        private final LongSupplier clock;
        private final long intervalNanos;
        private int[] tokens = new int[16];
        private int count;
        private boolean drainScheduled;
        private boolean drainedBefore;
        private long lastDrainNanos;

        Arrivals(LongSupplier clock, long intervalNanos) {
            this.clock = clock;
            this.intervalNanos = intervalNanos;
        }

        /** Buffers {@code token}; true when the caller must schedule a drain now. */
        synchronized boolean add(int token) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
            }
            tokens[count++] = token;
            if (drainScheduled) {
                return false;
            }
            long now = clock.getAsLong();
            if (drainedBefore && now - lastDrainNanos < intervalNanos) {
                return false; // the next token after the interval, or the finish, takes this one along
            }
            drainScheduled = true;
            drainedBefore = true;
            lastDrainNanos = now;
            return true;
        }

        /** A drain could not be scheduled: the next token tries again. */
        synchronized void drainNotScheduled() {
            drainScheduled = false;
        }

        /** The tokens buffered so far; a token added from now on may schedule another drain. */
        synchronized int[] take() {
            drainScheduled = false;
            int[] taken = Arrays.copyOf(tokens, count);
            count = 0;
            return taken;
        }

        synchronized boolean isEmpty() {
            return count == 0;
        }
    }
}
