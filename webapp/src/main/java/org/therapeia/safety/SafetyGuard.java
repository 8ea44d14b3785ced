package org.therapeia.safety;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.config.SafetyConfig;
import org.therapeia.engine.EngineOptions;

/**
 * The optional guard model's life ({@code safety.guard.model-path}): loaded on its own thread when
 * the service starts, so that neither deployment nor the main model waits for it; closed when the
 * service stops. Until it is loaded, and for good after a failed load (logged once, SEVERE, naming
 * the file or setting), the rules decide alone and each request counts the guard as unavailable.
 */
final class SafetyGuard implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SafetyGuard.class.getName());
    /** Requests waiting for the guard, per slot: a burst waits a little rather than being refused at once. */
    private static final int QUEUE_PER_SLOT = 4;

    private final SafetyConfig config;
    private volatile GuardModel model;
    private boolean started; // guarded by this
    private boolean closed; // guarded by this

    SafetyGuard(SafetyConfig config) {
        this.config = config;
    }

    /** Whether a guard model is configured at all. */
    boolean configured() {
        return config.guardModelPath().isPresent();
    }

    /** The loaded guard, if it is loaded. */
    Optional<GuardModel> ready() {
        return Optional.ofNullable(model);
    }

    /**
     * Starts loading the configured guard (once): its tokenizer and chat template on the calling
     * thread, its engine on a thread from {@code threads} (its engine thread too). Why the template
     * here: its library comes from the WAR's jars, which Payara closes at the end of the web
     * module's start even while another thread loads a class from them (see ModelRuntime#onStart).
     */
    void start(ThreadFactory threads) {
        if (!claimStart()) {
            return;
        }
        GuardModel.Prompting prompting = readPrompting();
        if (prompting == null) {
            return;
        }
        Thread loader = threads.newThread(() -> open(prompting, threads));
        loader.setName("therapeia-guard-loader");
        loader.start();
    }

    /** Loads the configured guard on the calling thread (its engine thread from {@code threads}); once. */
    void load(ThreadFactory threads) {
        if (claimStart()) {
            GuardModel.Prompting prompting = readPrompting();
            if (prompting != null) {
                open(prompting, threads);
            }
        }
    }

    private synchronized boolean claimStart() {
        if (started || closed || !configured()) {
            return false;
        }
        started = true;
        return true;
    }

    /** The guard's tokenizer and template, or null (logged) when they cannot be read. */
    private GuardModel.Prompting readPrompting() {
        try {
            return GuardModel.Prompting.read(config.guardModelPath().orElseThrow());
        } catch (RuntimeException | LinkageError e) {
            logFailure(e);
            return null;
        }
    }

    private void open(GuardModel.Prompting prompting, ThreadFactory threads) {
        Path dir = config.guardModelPath().orElseThrow();
        long t0 = System.nanoTime();
        GuardModel loaded;
        try {
            // no prefix cache for the guard: its reuse would need the request's prefix_cache.scope
            // passed along, or it would be a timing side channel whatever the setting
            loaded = GuardModel.open(prompting, new EngineOptions(dir, config.guardDtype(), config.guardDevice(),
                    config.guardBatchSize(), config.guardMaxContextLength(), config.guardThreads(), false),
                    config.guardBatchSize() * QUEUE_PER_SLOT, threads);
        } catch (RuntimeException | LinkageError e) {
            logFailure(e);
            return;
        }
        synchronized (this) {
            if (closed) { // stopped meanwhile
                loaded.close();
                return;
            }
            model = loaded;
        }
        LOG.info(() -> "guard model " + loaded.format().id() + " (" + config.guardDtype() + " on "
                + config.guardDevice() + ") loaded from " + dir + " in "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
    }

    private void logFailure(Throwable e) {
        // the message names a file, tensor or setting: it never holds what anyone wrote
        LOG.log(Level.SEVERE, "the guard model " + config.guardModelPath().orElseThrow() + " could not be loaded ("
                + e.getClass().getSimpleName() + ": " + e.getMessage() + "); crisis signals are graded by the rules alone",
                e);
    }

    /** Closes the guard, if loaded; a load still in progress closes what it opens. Idempotent. */
    @Override
    public void close() {
        GuardModel m;
        synchronized (this) {
            closed = true;
            m = model;
            model = null;
        }
        if (m != null) {
            m.close();
        }
    }
}
