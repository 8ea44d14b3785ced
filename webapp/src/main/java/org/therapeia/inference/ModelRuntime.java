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
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.config.InferenceConfig;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;

/**
 * The model's life: loaded when the application starts (on a managed thread, so deployment does
 * not wait for it), warmed up with {@code warmup.requests} generations, then READY; closed when the
 * application stops, so that a redeployed WAR starts from a clean engine. Owns the native engine,
 * the tokenizer and the scheduler's engine thread.
 */
@ApplicationScoped
public class ModelRuntime {

    private static final Logger LOG = Logger.getLogger(ModelRuntime.class.getName());
    private static final String WARMUP_INPUT = "Hello. I would like to talk about how my week went.";
    private static final int WARMUP_MAX_NEW_TOKENS = 16;

    /** Where the model is in its life. */
    public enum State { LOADING, WARMING_UP, READY, FAILED, STOPPED }

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

    protected ModelRuntime() {
    }

    @Inject
    public ModelRuntime(InferenceConfig config, org.therapeia.metrics.ServiceMetrics listener) {
        this(config, (SchedulerListener) listener);
    }

    /** Outside a container (tests): no metrics, threads from {@link #load(ThreadFactory)}. */
    public ModelRuntime(InferenceConfig config, SchedulerListener listener) {
        this.config = config;
        this.listener = listener;
    }

    void onStart(@Observes @Initialized(ApplicationScoped.class) Object event) {
        ThreadFactory factory = managedThreadFactory != null ? managedThreadFactory : Thread::new;
        Thread loader = factory.newThread(() -> load(factory));
        loader.setName("therapeia-model-loader");
        loader.start();
    }

    /** Loads and warms up the model on the calling thread; the engine thread comes from {@code threads}. */
    public void load(ThreadFactory threads) {
        long t0 = System.nanoTime();
        Tokenizer tokenizer = null;
        try {
            TokenizerConfig tokenizerConfig = TokenizerConfig.load(config.modelPath());
            tokenizer = Tokenizer.load(config.modelPath().resolve(TokenizerConfig.TOKENIZER_JSON));
            ChatTemplate template = new ChatTemplate(tokenizerConfig.chatTemplate(), tokenizerConfig.bosToken(),
                    tokenizerConfig.eosToken());
            synchronized (this) {
                if (state == State.STOPPED) {
                    tokenizer.close();
                    return;
                }
                engine = Engine.open(new EngineOptions(config.modelPath(), config.dtype(), config.device(),
                        config.batchSize(), config.maxContextLength(), config.engineThreads()));
            }
            int maxContext = (int) Math.min(config.maxContextLength(), engine.stats().maxContext());
            // read after the engine accepted the files: they are known to be well formed
            String fingerprint = ModelFingerprint.of(config.modelPath(), config.dtype(), config.device(), maxContext);
            Scheduler scheduler = new Scheduler(engine, config.batchSize(), config.queueCapacity(), threads,
                    System::nanoTime, listener).start();
            loaded = new LoadedModel(config.modelId(), new PromptBuilder(template, tokenizer, config.contextWindow()),
                    tokenizer, scheduler, maxContext, fingerprint);
            LOG.info(() -> "model " + config.modelId() + " (" + engine.architecture() + ", " + config.dtype() + " on "
                    + config.device() + ", fingerprint " + fingerprint.substring(0, 12) + ") loaded in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms; warming up with "
                    + config.warmupRequests() + " requests");
            state = State.WARMING_UP;
            warmUp(loaded);
            state = State.READY;
            LOG.info(() -> "model " + config.modelId() + " ready after "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
        } catch (RuntimeException | LinkageError e) {
            if (state == State.STOPPED) {
                return;
            }
            failure = e.getClass().getSimpleName() + ": " + e.getMessage();
            state = State.FAILED;
            LOG.log(Level.SEVERE, "model " + config.modelPath() + " could not be loaded: " + failure);
            if (loaded == null && tokenizer != null) {
                tokenizer.close();
            }
        }
    }

    /** Runs warmup.requests generations (greedy, short), all queued at once so batches form too. */
    private void warmUp(LoadedModel model) {
        int n = config.warmupRequests();
        int maxNew = Math.min(WARMUP_MAX_NEW_TOKENS, config.maxNewTokens());
        Prompt prompt = model.promptBuilder().build(config.defaultSystemPrompt(), List.of(), WARMUP_INPUT, maxNew,
                model.maxContext());
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

    /**
     * The loaded model for a request.
     *
     * @throws NotReadyException while loading or warming up, or after a failed load
     */
    public LoadedModel ready() {
        LoadedModel m = loaded;
        if (state != State.READY || m == null) {
            throw new NotReadyException(switch (state) {
                case LOADING -> "the model is loading";
                case WARMING_UP -> "the model is warming up";
                case FAILED -> "the model could not be loaded";
                default -> "the service is stopping";
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

    @PreDestroy
    public synchronized void stop() {
        state = State.STOPPED;
        LoadedModel m = loaded;
        if (m != null) {
            m.scheduler().close();
            m.tokenizer().close();
        }
        if (engine != null) {
            engine.close();
        }
    }
}
