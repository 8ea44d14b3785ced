package org.therapeia.inference;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.config.InferenceConfig;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;

/**
 * The model's life: loaded when the application starts (on a managed thread, so deployment does
 * not wait for it), warmed up with {@code warmup.requests} generations, then READY; drained and
 * closed when the application stops (SIGTERM or undeploy), so that a redeployed WAR starts from a
 * clean engine. Owns the native engine, the tokenizer and the scheduler's engine thread.
 *
 * <p>Stopping: readiness goes DOWN and new requests are refused (503, Retry-After) at once;
 * generations already taken finish for up to {@code shutdown.drain-seconds}, the rest end with a
 * 503 problem; then the engine thread ends ({@link #drain()}). The tokenizer closes after it, once
 * the encodes and decodes in progress on request threads are done ({@link Tokenizer#close()}), and
 * the engine last, and only if its thread has ended: native memory is never freed under a thread
 * still using it ({@link #stop()}). Between the two, the caller may wait for the replies of the
 * drained generations to be written (they still decode their text).
 */
@ApplicationScoped
public class ModelRuntime {

    private static final Logger LOG = Logger.getLogger(ModelRuntime.class.getName());
    private static final String WARMUP_INPUT = "Hello. I would like to talk about how my week went.";
    private static final int WARMUP_MAX_NEW_TOKENS = 16;

    /** Where the model is in its life. */
    public enum State { LOADING, WARMING_UP, READY, FAILED, DRAINING, STOPPED }

    @Resource
    private ManagedThreadFactory managedThreadFactory;

    private InferenceConfig config;
    private SchedulerListener listener;
    private final long startedNanos = System.nanoTime();

    private volatile State state = State.LOADING;
    private volatile String failure;
    private volatile LoadedModel loaded;
    private volatile int warmupDone;
    private Engine engine;
    private ExecutorService streamThreads;
    /** Held by drain() and stop() (one at a time, the first to come does the work); never inside this. */
    private final Object stopping = new Object();
    private boolean drainStarted; // guarded by this
    private volatile boolean engineThreadEnded;

    protected ModelRuntime() {
    }

    /**
     * @param listener in the container the service's metrics (the one bean that listens to the
     *                 scheduler); tests pass their own, and give threads to {@link #load(ThreadFactory)}
     */
    @Inject
    public ModelRuntime(InferenceConfig config, SchedulerListener listener) {
        this.config = config;
        this.listener = listener;
    }

    /**
     * Reads the tokenizer and the chat template here, on the deploying thread, and hands the rest
     * (the engine, the warm-up) to a managed thread. Why not all of it on that thread: the template
     * library (Jinjava and its dependencies) comes from the WAR's own jars, and Payara closes those
     * jars at the end of the web module's start (StandardContext.start: closeJARs) even while
     * another thread is loading a class from them; the loader then failed, now and then, with
     * "IllegalStateException: zip file closed" (payara/Payara#5001). Rendering the warm-up prompt
     * once here loads those classes before the hand-off; the loader thread then needs only the
     * application's own classes, the server's libraries and the native engine.
     */
    void onStart(@Observes @Initialized(ApplicationScoped.class) Object event) {
        ThreadFactory factory = managedThreadFactory != null ? managedThreadFactory : Thread::new;
        Prompting prompting = readPrompting();
        if (prompting == null) {
            return;
        }
        Thread loader = factory.newThread(() -> open(prompting, factory));
        loader.setName("therapeia-model-loader");
        loader.start();
    }

    /** Loads and warms up the model on the calling thread; the engine thread comes from {@code threads}. */
    public void load(ThreadFactory threads) {
        Prompting prompting = readPrompting();
        if (prompting != null) {
            open(prompting, threads);
        }
    }

    /** What turns a conversation into token ids: the tokenizer and the prompt builder over the chat template. */
    private record Prompting(Tokenizer tokenizer, PromptBuilder promptBuilder) {
    }

    /**
     * Reads the tokenizer and the chat template, and renders and encodes the warm-up prompt once;
     * null (and FAILED) when they cannot be read.
     */
    private Prompting readPrompting() {
        Tokenizer tokenizer = null;
        try {
            TokenizerConfig tokenizerConfig = TokenizerConfig.load(config.modelPath());
            tokenizer = Tokenizer.load(config.modelPath().resolve(TokenizerConfig.TOKENIZER_JSON));
            ChatTemplate template = new ChatTemplate(tokenizerConfig.chatTemplate(), tokenizerConfig.bosToken(),
                    tokenizerConfig.eosToken());
            PromptBuilder promptBuilder = new PromptBuilder(template, tokenizer,
                    new HistoryWindow(config.contextWindow(), config.contextWindowStep()));
            warmUpPrompt(promptBuilder, config.maxContextLength());
            return new Prompting(tokenizer, promptBuilder);
        } catch (RuntimeException | LinkageError e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            fail(e);
            return null;
        }
    }

    /** Opens the engine (after {@link #readPrompting()}), starts the scheduler and warms up. */
    private void open(Prompting prompting, ThreadFactory threads) {
        long t0 = System.nanoTime();
        Tokenizer tokenizer = prompting.tokenizer();
        String fingerprint;
        try {
            synchronized (this) {
                if (state != State.LOADING) { // stopped meanwhile
                    tokenizer.close();
                    return;
                }
                engine = Engine.open(new EngineOptions(config.modelPath(), config.dtype(), config.device(),
                        config.batchSize(), config.maxContextLength(), config.engineThreads(),
                        config.prefixCacheEnabled()));
                int maxContext = (int) Math.min(config.maxContextLength(), engine.stats().maxContext());
                // read after the engine accepted the files: they are known to be well formed
                fingerprint = ModelFingerprint.of(config.modelPath(), config.dtype(), config.device(), maxContext);
                ModelSamplingDefaults samplingDefaults = ModelSamplingDefaults.load(config.modelPath());
                Scheduler scheduler = new Scheduler(engine, config.batchSize(), config.queueCapacity(), threads,
                        System::nanoTime, listener).start();
                streamThreads = Executors.newCachedThreadPool(streamThreadFactory(threads));
                loaded = new LoadedModel(config.modelId(), prompting.promptBuilder(), tokenizer, scheduler,
                        maxContext, fingerprint, samplingDefaults, streamThreads);
                state = State.WARMING_UP;
            }
            String shortFingerprint = fingerprint.substring(0, 12);
            LOG.info(() -> "model " + config.modelId() + " (" + engine.architecture() + ", " + config.dtype() + " on "
                    + config.device() + ", fingerprint " + shortFingerprint + ") loaded in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms; warming up with "
                    + config.warmupRequests() + " requests");
            warmUp(loaded);
            if (advance(State.WARMING_UP, State.READY)) {
                LOG.info(() -> "model " + config.modelId() + " ready after "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
            }
        } catch (RuntimeException | LinkageError e) {
            synchronized (this) {
                if (loaded == null) { // nobody else will close what this load opened
                    tokenizer.close();
                    if (engine != null) {
                        engine.close();
                    }
                }
            }
            fail(e);
        }
    }

    /** FAILED, with the reason, unless the service is stopping (e.g. the warm-up's generations, ended by the drain). */
    private void fail(Throwable e) {
        synchronized (this) {
            if (isStopping()) {
                return;
            }
            failure = e.getClass().getSimpleName() + ": " + e.getMessage();
            state = State.FAILED;
        }
        // the message names a file, tensor or setting, never what anyone wrote; the trace says where it happened
        LOG.log(Level.SEVERE, "model " + config.modelPath() + " could not be loaded: " + failure, e);
    }

    /**
     * The threads of the streamed replies' drains and of every generation's completion (see
     * InferenceService): the container's managed threads, pooled. Not the
     * ManagedExecutorService, whose every submit captures the submitter's context (in Payara a
     * ServiceLoader scan of the application's class path): the engine thread submits a drain per
     * stream and piece interval, and that capture took most of its time outside the engine's steps
     * (issue 16). A thread of this factory carries the application's context once, from its start.
     */
    private static ThreadFactory streamThreadFactory(ThreadFactory threads) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = threads.newThread(task);
            thread.setName("therapeia-stream-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Moves from {@code from} to {@code to}; false (and no move) when the state is no longer {@code from}. */
    private synchronized boolean advance(State from, State to) {
        if (state != from) {
            return false;
        }
        state = to;
        return true;
    }

    private boolean isStopping() {
        State s = state;
        return s == State.DRAINING || s == State.STOPPED;
    }

    /** Runs warmup.requests generations (greedy, short), all queued at once so batches form too. */
    private void warmUp(LoadedModel model) {
        int n = config.warmupRequests();
        int maxNew = warmUpMaxNewTokens();
        Prompt prompt = warmUpPrompt(model.promptBuilder(), model.maxContext());
        List<CompletableFuture<Generation>> running = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (running.size() >= model.scheduler().queueCapacity()) {
                running.remove(0).join();
            }
            running.add(model.scheduler().submit(prompt.ids(), SamplingParams.greedy(maxNew),
                    Duration.ofMinutes(10)));
            warmupDone = i + 1;
        }
        for (CompletableFuture<Generation> f : running) {
            f.join();
        }
    }

    private Prompt warmUpPrompt(PromptBuilder promptBuilder, int maxContext) {
        return promptBuilder.build(config.defaultSystemPrompt(), List.of(), WARMUP_INPUT, warmUpMaxNewTokens(),
                maxContext);
    }

    private int warmUpMaxNewTokens() {
        return Math.min(WARMUP_MAX_NEW_TOKENS, config.maxNewTokens());
    }

    /**
     * The loaded model for a request.
     *
     * @throws NotReadyException     while loading or warming up, or after a failed load
     * @throws ShuttingDownException once the service is stopping
     */
    public LoadedModel ready() {
        LoadedModel m = loaded;
        State s = state;
        if (s == State.DRAINING || s == State.STOPPED) {
            throw new ShuttingDownException("the service is shutting down");
        }
        if (s != State.READY || m == null) {
            throw new NotReadyException(switch (s) {
                case LOADING -> "the model is loading";
                case WARMING_UP -> "the model is warming up";
                default -> "the model could not be loaded";
            });
        }
        return m;
    }

    /** Warm-up generations submitted so far. */
    public int warmupSubmitted() {
        return warmupDone;
    }

    public State state() {
        return state;
    }

    /** Why loading failed (names the file or setting), or null: for the log and tests, never for health data. */
    public String failure() {
        return failure;
    }

    public boolean modelLoaded() {
        return loaded != null && (state == State.WARMING_UP || state == State.READY);
    }

    public double uptimeSeconds() {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    /** The scheduler once the model is loaded, else null. */
    public Scheduler schedulerOrNull() {
        LoadedModel m = loaded;
        return m == null ? null : m.scheduler();
    }

    /**
     * The first half of stopping (see the class comment): refuses new requests and lets the
     * generations already taken finish, for up to {@code shutdown.drain-seconds} plus the engine
     * step in progress; the rest fail. The tokenizer and the engine stay open for the replies
     * still being written ({@link #stop()} closes them). Idempotent.
     */
    public void drain() {
        synchronized (stopping) {
            LoadedModel m;
            synchronized (this) {
                if (drainStarted) {
                    return;
                }
                drainStarted = true;
                m = loaded;
                // no model yet: the loader sees STOPPED and closes what it has opened itself
                state = m == null ? State.STOPPED : State.DRAINING;
            }
            if (m == null) {
                return;
            }
            long t0 = System.nanoTime();
            Scheduler scheduler = m.scheduler();
            LOG.info(() -> "stopping: draining " + scheduler.running() + " running and " + scheduler.queueDepth()
                    + " waiting generations for up to " + config.shutdownDrain().toSeconds() + " s");
            engineThreadEnded = scheduler.shutdown(config.shutdownDrain());
            LOG.info(() -> "drained after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
        }
    }

    /**
     * Drains ({@link #drain()}, unless that has run) and closes: the tokenizer, once the encodes
     * and decodes in progress are done, and the engine, only if its thread has ended. Idempotent.
     */
    @PreDestroy
    public void stop() {
        drain();
        synchronized (stopping) {
            LoadedModel m;
            synchronized (this) {
                if (state == State.STOPPED) {
                    return;
                }
                m = loaded;
            }
            m.tokenizer().close(); // waits for the encodes and decodes in progress; refuses later ones
            streamThreads.shutdown(); // a drain still to come is refused: the final replies say it all
            if (engineThreadEnded) {
                engine.close();
            } else {
                // freeing the engine under a thread inside one of its steps could crash the JVM: leak it instead
                LOG.severe("the engine thread did not end within the drain time and one step; the engine is left open");
            }
            state = State.STOPPED;
            LOG.info("stopped: the tokenizer and the engine are closed");
        }
    }
}
