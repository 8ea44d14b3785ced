package org.therapeia.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineException;
import org.therapeia.engine.EngineStats;
import org.therapeia.engine.SamplingParams;
import org.therapeia.engine.StepEvent;

/**
 * Continuous batching over the engine's step API, on one engine thread that alone calls the
 * engine: each turn of its loop forgets waiting requests that are dead (past their deadline, or
 * given up by their caller: a streaming client gone), admits live ones into free slots, cancels
 * running ones past their deadline (or given up), and runs one {@link Engine#step()}, which
 * prefills the new sequences and decodes every running one in one batch.
 *
 * <p>Requests wait in a bounded queue ({@code queue.capacity}); a full queue refuses at once
 * ({@link QueueFullException}). At most {@code maxRunning} sequences (the engine's slots) are in
 * the engine, so the queue length is the real wait. A dead request never reaches the engine: it is
 * dropped from the queue without a prefill or a slot ({@link SchedulerListener#onDropped}). Each
 * request's future completes with its {@link Generation}, or exceptionally with
 * {@link GenerationTimeoutException}, {@link SequenceFailedException} (the engine ended that
 * sequence alone; the others go on), {@link EngineException} (a whole step failed) or
 * {@link SchedulerClosedException}.
 *
 * <p>{@link #shutdown(Duration)} drains: it refuses new work at once, lets queued and running
 * generations finish until the drain time has passed, fails the rest, and ends the engine thread;
 * only then may the engine be closed. Every future a submit returned completes, whatever the
 * timing of the submit against the stop.
 */
public final class Scheduler implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Scheduler.class.getName());
    private static final long IDLE_POLL_MILLIS = 50;
    /** How often a waiting request's listener hears that it still waits (a stream writes then: is its client there?). */
    private static final long WAITING_NOTICE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a shutdown waits for the engine thread beyond the drain time: the step it is in must end first. */
    private static final long STEP_GRACE_MILLIS = TimeUnit.SECONDS.toMillis(10);
    /** A prefill ahead generates one greedy token: the engine computes a prompt's KV only to sample after it. */
    private static final SamplingParams AHEAD = new SamplingParams(1, 0.0, 0, 1.0, 1.0, 0);
    private static final Duration AHEAD_TIMEOUT = Duration.ofMinutes(1);

    private final Engine engine;
    private final int maxRunning;
    private final int queueCapacity;
    private final LongSupplier clock;
    private final SchedulerListener listener;
    private final BlockingQueue<Job> queue;
    private final Map<Long, Job> running = new HashMap<>(); // engine thread only
    /** Prefills ahead that wait for a free slot ({@link #prefillAhead}), oldest first; at most maxRunning. */
    private final Deque<Job> aheadWaiting = new ConcurrentLinkedDeque<>();
    private Job aheadRunning; // engine thread only; also in running
    private final int[] eosTokenIds;
    private final Thread thread;

    private volatile boolean accepting = true;
    private volatile long drainDeadlineNanos; // written before draining, read after it
    private volatile boolean draining;
    private volatile long heartbeatNanos;
    private volatile EngineStats stats;
    private volatile int runningCount;
    private volatile boolean aheadInEngine;
    private volatile Throwable died;

    /**
     * @param maxRunning sequences in the engine at once (its slots)
     * @param clock      nanosecond clock (System::nanoTime outside tests)
     */
    public Scheduler(Engine engine, int maxRunning, int queueCapacity, ThreadFactory threadFactory, LongSupplier clock,
                     SchedulerListener listener) {
        if (maxRunning < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("maxRunning and queueCapacity must be at least 1");
        }
        this.engine = engine;
        this.maxRunning = maxRunning;
        this.queueCapacity = queueCapacity;
        this.clock = clock;
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.eosTokenIds = engine.eosTokenIds().clone();
        this.stats = engine.stats();
        this.heartbeatNanos = clock.getAsLong();
        this.thread = threadFactory.newThread(this::run);
        this.thread.setName("therapeia-engine");
        this.thread.setDaemon(true);
    }

    public Scheduler start() {
        thread.start();
        return this;
    }

    /**
     * Queues a generation.
     *
     * @throws QueueFullException       when {@code queue.capacity} requests already wait
     * @throws SchedulerClosedException once {@link #shutdown(Duration)} has begun
     */
    public CompletableFuture<Generation> submit(int[] promptIds, SamplingParams params, Duration timeout) {
        return submit(promptIds, params, timeout, TokenListener.NONE);
    }

    /**
     * Queues a generation whose tokens {@code listener} hears as they come (and which, while it
     * waits for a slot, hears so about once a second: {@link TokenListener#onWaiting()}).
     * Cancelling the returned future (a client gone) removes the request from the queue or the
     * engine at the engine thread's next turn.
     *
     * @throws QueueFullException       when {@code queue.capacity} requests already wait
     * @throws SchedulerClosedException once {@link #shutdown(Duration)} has begun
     */
    public CompletableFuture<Generation> submit(int[] promptIds, SamplingParams params, Duration timeout,
                                                TokenListener listener) {
        return submit(promptIds, params, timeout, Engine.SHARED_SCOPE, listener);
    }

    /**
     * Queues a generation as {@link #submit(int[], SamplingParams, Duration, TokenListener)} does,
     * that reuses warm KV only from generations of the same {@code reuseScope} (see
     * {@link Engine#add(int[], SamplingParams, long)}).
     */
    public CompletableFuture<Generation> submit(int[] promptIds, SamplingParams params, Duration timeout,
                                                long reuseScope, TokenListener listener) {
        if (!accepting) {
            throw new SchedulerClosedException();
        }
        long now = clock.getAsLong();
        Job job = new Job(promptIds.clone(), params, reuseScope, now, now + timeout.toNanos(), timeout, listener);
        if (!queue.offer(job)) {
            throw new QueueFullException(queueCapacity);
        }
        // A shutdown that began since the check above may have emptied the queue for the last time
        // already: take the job back and refuse it. If it is gone, the engine thread or the
        // shutdown took it, and they complete its future.
        if (!accepting && queue.remove(job)) {
            throw new SchedulerClosedException();
        }
        return job.future;
    }

    /**
     * Prefills {@code promptIds} into a slot before anyone asks, so that a later request whose prompt
     * starts with them (of the same {@code reuseScope}) finds them warm: the work that request's
     * arrival would cause, done earlier. Requests come first: it starts only when no request waits,
     * a slot is free and every running request has its first token (beside running requests, whose
     * next token then waits for its prefill as for any new request's), one at a time. A request
     * whose prompt starts with it takes it over (a running one stops and leaves its KV warm for the
     * request, a waiting one is dropped); any other request that comes while it runs pauses it (it
     * goes on later from what it computed, which stays warm). At most {@code maxRunning} wait,
     * oldest first; a newer one pushes out the oldest. Nobody hears of it: no future, no listener.
     */
    public void prefillAhead(int[] promptIds, long reuseScope) {
        if (!accepting || promptIds.length == 0) {
            return;
        }
        long now = clock.getAsLong();
        aheadWaiting.addLast(new Job(promptIds.clone(), AHEAD, reuseScope, now, now + AHEAD_TIMEOUT.toNanos(),
                AHEAD_TIMEOUT, TokenListener.NONE));
        while (aheadWaiting.size() > maxRunning) {
            aheadWaiting.pollFirst();
        }
    }

    /** Requests waiting for a slot. */
    public int queueDepth() {
        return queue.size();
    }

    /** Sequences in the engine. */
    public int running() {
        return runningCount;
    }

    public int queueCapacity() {
        return queueCapacity;
    }

    /** The engine's counters as of the engine thread's last turn (request threads never call the engine). */
    public EngineStats stats() {
        return stats;
    }

    /** When the engine thread last completed a turn of its loop ({@link System#nanoTime()} scale). */
    public long heartbeatNanos() {
        return heartbeatNanos;
    }

    /**
     * Whether work is waiting or running, a prefill ahead included - but not one waiting once a
     * shutdown has begun: it will never run (a drain that ends by its time, or a prefillAhead that
     * raced the shutdown, leaves it behind), and the liveness check would read it as a stall.
     */
    public boolean hasWork() {
        return !queue.isEmpty() || runningCount > 0 || aheadInEngine || (!draining && !aheadWaiting.isEmpty());
    }

    public boolean isThreadAlive() {
        return thread.isAlive() && died == null;
    }

    /** Whether {@link #shutdown(Duration)} has begun: the engine thread drains, then ends on purpose. */
    public boolean isShuttingDown() {
        return draining;
    }

    /** What killed the engine thread, if anything did. */
    public Throwable failure() {
        return died;
    }

    /**
     * Drains and stops: refuses new work from now on, lets queued and running generations go on
     * until {@code drain} has passed (or nothing is left), then fails those still unfinished with
     * {@link SchedulerClosedException} and ends the engine thread. Waits for that, up to the drain
     * time plus the end of the engine step in progress. Idempotent; a later call may only shorten
     * the drain.
     *
     * @return true when the engine thread has ended (or never started): nothing calls the engine
     *         any more, and the caller may close it; false when it is still inside an engine step
     */
    public boolean shutdown(Duration drain) {
        long deadline = clock.getAsLong() + drain.toNanos();
        synchronized (this) {
            if (!draining || deadline - drainDeadlineNanos < 0) {
                drainDeadlineNanos = deadline;
            }
            draining = true;
        }
        accepting = false; // after the drain's deadline is set: whoever is refused sees it
        if (Thread.currentThread() != thread) {
            try {
                thread.join(drain.toMillis() + STEP_GRACE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // a job offered after the engine thread's last look (its submit takes it back, or it ends here)
        failQueued(new SchedulerClosedException());
        return !thread.isAlive();
    }

    /** {@link #shutdown(Duration)} without a drain: waiting and running requests fail at once. */
    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    private void run() {
        try {
            while (!drained()) {
                try {
                    turn();
                } catch (InterruptedException e) {
                    // only shutdown() ends the loop: an interrupt from elsewhere must not cut a drain short
                }
                heartbeatNanos = clock.getAsLong();
            }
        } catch (Throwable t) { // the thread must not die silently: liveness reports it
            died = t;
            LOG.log(Level.SEVERE, "the engine thread stopped: " + t.getClass().getName());
        } finally {
            SchedulerClosedException unfinished = new SchedulerClosedException(
                    "the service stopped before this generation finished");
            for (Job job : running.values()) {
                cancelInEngine(job);
                job.future.completeExceptionally(unfinished);
            }
            running.clear();
            aheadRunning = null;
            publishCounts();
            failQueued(unfinished);
        }
    }

    /** Whether a shutdown's drain is over: nothing left, or its time has passed. */
    private boolean drained() {
        return draining && (queue.isEmpty() && running.isEmpty() || clock.getAsLong() - drainDeadlineNanos >= 0);
    }

    private void turn() throws InterruptedException {
        reviewQueue();
        if (running.isEmpty() && aheadWaiting.isEmpty()) {
            Job next = queue.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
            if (next == null) {
                return;
            }
            admit(next);
        }
        admitWaiting();
        if (aheadRunning != null && (!queue.isEmpty() || draining)) {
            pauseAhead(); // requests first: its slot goes to the request that found none
            admitWaiting();
        }
        startAhead();
        expire();
        publishCounts();
        if (running.isEmpty()) {
            return;
        }
        long start = clock.getAsLong();
        List<StepEvent> events;
        try {
            events = engine.step();
        } catch (EngineException e) {
            failRunning(e);
            return;
        }
        long end = clock.getAsLong();
        stats = engine.stats();
        listener.onStep(events.size(), events.size(), end - start);
        for (StepEvent event : events) {
            Job job = running.get(event.sequenceId());
            if (job == null) {
                continue;
            }
            if (job == aheadRunning) { // its KV is what it was for: the token goes nowhere
                if (event.failed() || event.finished()) {
                    running.remove(event.sequenceId());
                    aheadRunning = null;
                }
                continue;
            }
            if (event.failed()) { // this sequence alone: the engine already freed its slot
                running.remove(event.sequenceId());
                LOG.log(Level.WARNING, "a sequence failed alone: " + event.failure());
                job.future.completeExceptionally(new SequenceFailedException(event.failure()));
                continue;
            }
            if (job.tokens.isEmpty()) {
                job.firstTokenNanos = end;
                job.promptTokensReused = event.promptTokensReused();
                listener.onPromptTokens(job.promptTokensReused, job.promptIds.length - job.promptTokensReused);
            }
            job.tokens.add(event.token());
            job.hear(event.token());
            if (event.finished()) {
                running.remove(event.sequenceId());
                job.future.complete(job.result(end, isEos(event.token())));
            }
        }
        publishCounts();
    }

    private void admitWaiting() {
        while (running.size() < maxRunning) {
            Job next = queue.poll();
            if (next == null) {
                return;
            }
            admit(next);
        }
    }

    /**
     * Before a request enters the engine. A prefill ahead whose prompt the request's starts with is
     * the request's own work: a waiting one is dropped, a running one stops and leaves what it
     * computed warm for the request. Any other running prefill ahead pauses: the engine gives each
     * step's prefill budget to unfinished prefills in the order they came, so the request's prefill
     * would wait for the rest of the ahead's; it goes back to the head of the waiting ones and goes
     * on, from what it computed (still warm), once the request has its first token.
     */
    private void makeWayFor(Job request) {
        aheadWaiting.removeIf(ahead -> supersedes(request, ahead));
        if (aheadRunning != null && supersedes(request, aheadRunning)) {
            stopAhead();
        } else if (aheadRunning != null) {
            pauseAhead();
        }
    }

    /**
     * Of its own scope only: a request of another reads none of the ahead's KV (the engine keeps
     * scopes apart), so it would drop the prefill ahead of a conversation that is not its own.
     */
    private static boolean supersedes(Job request, Job ahead) {
        int[] ids = request.promptIds, prefix = ahead.promptIds;
        return request.reuseScope == ahead.reuseScope && ids.length >= prefix.length
                && Arrays.equals(ids, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * Starts the oldest waiting prefill ahead, if any, when no request waits, a slot is free and
     * every running request has its first token (a prefill ahead never delays one).
     */
    private void startAhead() {
        if (draining) {
            aheadWaiting.clear(); // else an idle turn would not wait for a request (turn's poll)
            return;
        }
        if (aheadRunning != null || !queue.isEmpty() || running.size() >= maxRunning) {
            return;
        }
        for (Job job : running.values()) {
            if (job.tokens.isEmpty()) {
                return;
            }
        }
        Job job = aheadWaiting.pollFirst();
        if (job == null) {
            return;
        }
        admit(job);
        if (running.get(job.sequenceId) == job) {
            aheadRunning = job;
        }
    }

    /** Stops the running prefill ahead to go on later: first of the waiting ones, from what it computed. */
    private void pauseAhead() {
        Job ahead = aheadRunning;
        stopAhead();
        aheadWaiting.addFirst(ahead);
    }

    /** Cancels the running prefill ahead: its slot keeps the KV it computed, warm for whoever comes. */
    private void stopAhead() {
        cancelInEngine(aheadRunning);
        running.remove(aheadRunning.sequenceId);
        aheadRunning = null;
        stats = engine.stats();
    }

    /** For other threads: the requests in the engine (a prefill ahead not counted), and whether one runs. */
    private void publishCounts() {
        runningCount = running.size() - (aheadRunning != null ? 1 : 0);
        aheadInEngine = aheadRunning != null;
    }

    /**
     * Drops the waiting jobs that are dead before they reach the engine (so a timed-out request
     * gets its 504 on time, not when it reaches the head of the queue, and frees its place), and
     * tells each live one, about once a second, that it still waits.
     */
    private void reviewQueue() {
        if (queue.isEmpty()) {
            return;
        }
        long now = clock.getAsLong();
        for (Job job : queue) { // weakly consistent: submits and takes may go on meanwhile
            if (job.isDead(now)) {
                if (queue.remove(job)) { // else a shutdown or the submit itself took it
                    drop(job, now);
                }
            } else if (now - job.waitNoticeNanos >= WAITING_NOTICE_NANOS) {
                job.waitNoticeNanos = now;
                job.stillWaiting();
            }
        }
    }

    /** A dead job leaves without a prefill or a slot; a timed-out one fails with its timeout. */
    private void drop(Job job, long now) {
        if (job.future.isDone()) { // only its caller completes a waiting job's future: given up
            listener.onDropped(SchedulerListener.DropReason.CANCELLED);
        } else {
            job.future.completeExceptionally(new GenerationTimeoutException(job.timeout));
            listener.onDropped(SchedulerListener.DropReason.DEADLINE);
        }
    }

    private void admit(Job job) {
        long now = clock.getAsLong();
        if (job.isDead(now)) { // died since the last review
            if (!job.isPrefillAhead()) { // a prefill ahead past its time is no request dropped: nobody asked
                drop(job, now);
            }
            return;
        }
        if (!job.isPrefillAhead()) {
            makeWayFor(job);
        }
        try {
            job.sequenceId = engine.add(job.promptIds, job.params, job.reuseScope);
        } catch (EngineException e) {
            job.future.completeExceptionally(e);
            return;
        }
        job.admittedNanos = now;
        running.put(job.sequenceId, job);
    }

    private void expire() {
        long now = clock.getAsLong();
        boolean cancelled = false;
        for (Iterator<Job> it = running.values().iterator(); it.hasNext(); ) {
            Job job = it.next();
            boolean late = now - job.deadlineNanos >= 0;
            if (late || job.future.isDone()) {
                cancelInEngine(job);
                it.remove();
                if (job == aheadRunning) {
                    aheadRunning = null;
                }
                cancelled = true;
                if (late) {
                    job.future.completeExceptionally(new GenerationTimeoutException(job.timeout));
                }
            } else if (job.tokenListener.stopRequested()) { // a stop string: complete with what it has
                cancelInEngine(job);
                it.remove();
                cancelled = true;
                job.future.complete(job.result(now, false));
            }
        }
        if (cancelled) { // the freed slots show at once, not after the next step
            stats = engine.stats();
        }
    }

    private void cancelInEngine(Job job) {
        try {
            engine.cancel(job.sequenceId);
        } catch (EngineException e) {
            LOG.log(Level.WARNING, "cancelling a sequence failed: " + e.getMessage());
        }
    }

    private void failRunning(EngineException e) {
        LOG.log(Level.WARNING, "an engine step failed; failing " + running.size() + " sequences: " + e.getMessage());
        for (Job job : running.values()) {
            cancelInEngine(job);
            job.future.completeExceptionally(e);
        }
        running.clear();
        aheadRunning = null;
        publishCounts();
    }

    private void failQueued(RuntimeException e) {
        List<Job> drained = new ArrayList<>();
        queue.drainTo(drained);
        for (Job job : drained) {
            job.future.completeExceptionally(e);
        }
    }

    private boolean isEos(int token) {
        for (int id : eosTokenIds) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }

    /** One request's journey; fields other than future are touched by the engine thread only. */
    private static final class Job {
        final int[] promptIds;
        final SamplingParams params;
        final long reuseScope;
        final long submittedNanos;
        final long deadlineNanos;
        final Duration timeout;
        final CompletableFuture<Generation> future = new CompletableFuture<>();
        final IntList tokens = new IntList();
        TokenListener tokenListener;
        long waitNoticeNanos;
        long sequenceId = -1;
        long admittedNanos;
        long firstTokenNanos;
        int promptTokensReused;

        Job(int[] promptIds, SamplingParams params, long reuseScope, long submittedNanos, long deadlineNanos,
            Duration timeout, TokenListener listener) {
            this.promptIds = promptIds;
            this.params = params;
            this.reuseScope = reuseScope;
            this.submittedNanos = submittedNanos;
            this.deadlineNanos = deadlineNanos;
            this.timeout = timeout;
            this.tokenListener = listener;
            this.waitNoticeNanos = submittedNanos;
        }

        boolean isPrefillAhead() {
            return params == AHEAD;
        }

        /** Past its deadline, or given up by its caller (who alone completes the future of a job still waiting). */
        boolean isDead(long now) {
            return future.isDone() || now - deadlineNanos >= 0;
        }

        /** Passes a token on; a listener that throws is dropped so that it cannot stop the engine thread. */
        void hear(int token) {
            try {
                tokenListener.onToken(token);
            } catch (RuntimeException e) {
                dropListener(e);
            }
        }

        /** Tells the listener that the job still waits for a slot. */
        void stillWaiting() {
            try {
                tokenListener.onWaiting();
            } catch (RuntimeException e) {
                dropListener(e);
            }
        }

        private void dropListener(RuntimeException e) {
            LOG.log(Level.WARNING, "a token listener failed and was dropped: " + e.getClass().getName());
            tokenListener = TokenListener.NONE;
        }

        Generation result(long endNanos, boolean stoppedByEos) {
            return new Generation(tokens.toArray(), stoppedByEos, admittedNanos - submittedNanos,
                    firstTokenNanos - submittedNanos, endNanos - admittedNanos, promptTokensReused);
        }
    }

    /** A growable int array: token lists without boxing. */
    private static final class IntList {
        private int[] values = new int[32];
        private int size;

        void add(int v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        boolean isEmpty() {
            return size == 0;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
