package org.therapeia.engine;

import java.util.List;

/**
 * A loaded model with its KV cache and scheduler: the Java face of the C++ {@code therapeia::Engine}.
 *
 * <p>The step API: {@link #add} queues sequences at any time; each {@link #step()} admits waiting
 * sequences into free slots (prefill) and decodes every running one in one batch, returning one
 * {@link StepEvent} per sequence that produced a token.
 *
 * <p>Thread safety: calls are serialised on one lock, because the native engine is single-threaded
 * by design (one engine thread calls {@code step()} in a loop). {@link #close()} is idempotent and
 * may race with any call: it waits for a call in progress, frees the native engine, and afterwards
 * every method throws {@link EngineException} "engine is closed". There is no finalizer: close it.
 */
public final class Engine implements AutoCloseable {

    /** The reuse scope of sequences that may reuse any warm prefix, and leave theirs to anyone. */
    public static final long SHARED_SCOPE = 0;

    private final Object lock = new Object();
    private final EngineOptions options;
    private long handle; // guarded by lock; 0 once closed

    private Engine(long handle, EngineOptions options) {
        this.handle = handle;
        this.options = options;
    }

    /**
     * Loads the native library (once) and the model.
     *
     * @throws EngineException naming the file, tensor or setting at fault
     */
    public static Engine open(EngineOptions options) {
        if (options == null) {
            throw new EngineException("options must not be null");
        }
        NativeLibrary.load();
        long handle = NativeEngine.create(options.modelDir().toString(), options.dtype(), options.device(),
                options.maxSlots(), options.maxContext(), options.threads(), options.prefixCache());
        if (handle == 0) {
            throw new EngineException("native engine for " + options.modelDir() + " was not created");
        }
        return new Engine(handle, options);
    }

    public EngineOptions options() {
        return options;
    }

    /**
     * Queues a sequence; it runs in a later {@link #step()}, or waits there for a free slot.
     *
     * @return the sequence id carried by its {@link StepEvent}s
     * @throws EngineException for an empty prompt, a token id outside the vocabulary, a prompt that
     *                         does not fit the context, or invalid sampling parameters
     */
    public long add(int[] promptIds, SamplingParams params) {
        return add(promptIds, params, SHARED_SCOPE);
    }

    /**
     * Queues a sequence that reuses warm KV only from sequences of the same {@code reuseScope}: a
     * keyed hash of who sent it (an API key, say), so that the time to its first token says nothing
     * about other clients' prompts. {@link #SHARED_SCOPE} reuses any warm prefix.
     *
     * @see #add(int[], SamplingParams)
     */
    public long add(int[] promptIds, SamplingParams params, long reuseScope) {
        requireArgument(promptIds, "promptIds");
        requireArgument(params, "params");
        synchronized (lock) {
            return NativeEngine.add(live(), promptIds, params.maxNewTokens(), params.temperature(), params.topK(),
                    params.topP(), params.repetitionPenalty(), params.frequencyPenalty(), params.presencePenalty(),
                    params.seed(), reuseScope);
        }
    }

    /**
     * One scheduler step: a token for every running sequence (empty when there is nothing to do).
     * A sequence that fails on its own (see {@link StepEvent#failure()}) ends with a failed event
     * while the others get their tokens; an {@link EngineException} means the step as a whole failed.
     */
    public List<StepEvent> step() {
        StepEvent[] events;
        synchronized (lock) {
            events = NativeEngine.step(live());
        }
        return List.of(events);
    }

    /**
     * Removes a waiting or running sequence and frees its slot, which keeps the KV computed so far
     * (with the prefix cache on); unknown or finished ids are ignored.
     */
    public void cancel(long sequenceId) {
        synchronized (lock) {
            NativeEngine.cancel(live(), sequenceId);
        }
    }

    public EngineStats stats() {
        synchronized (lock) {
            return EngineStats.of(NativeEngine.stats(live()));
        }
    }

    /**
     * Full forward pass over {@code ids} without touching the KV cache or the scheduler.
     *
     * @return logits [T][V] in float32, one row per input position
     */
    public float[][] logits(int[] ids) {
        requireArgument(ids, "ids");
        float[] flat;
        synchronized (lock) {
            flat = NativeEngine.logits(live(), ids);
        }
        int rows = ids.length;
        if (rows == 0 || flat.length % rows != 0) {
            throw new EngineException("native logits returned " + flat.length + " values for " + rows + " ids");
        }
        int vocab = flat.length / rows;
        float[][] result = new float[rows][];
        for (int t = 0; t < rows; t++) {
            float[] row = new float[vocab];
            System.arraycopy(flat, t * vocab, row, 0, vocab);
            result[t] = row;
        }
        return result;
    }

    /** Token ids that end a generation (generation_config.json, else config.json). */
    public int[] eosTokenIds() {
        synchronized (lock) {
            return NativeEngine.eosTokenIds(live());
        }
    }

    /** The model's architecture as config.json names it, e.g. {@code LlamaForCausalLM}. */
    public String architecture() {
        synchronized (lock) {
            return NativeEngine.architecture(live());
        }
    }

    public boolean isClosed() {
        synchronized (lock) {
            return handle == 0;
        }
    }

    /** Frees the native engine; idempotent, and safe while other threads call this engine. */
    @Override
    public void close() {
        synchronized (lock) {
            if (handle == 0) {
                return;
            }
            long h = handle;
            handle = 0;
            NativeEngine.destroy(h);
        }
    }

    private long live() {
        if (handle == 0) {
            throw new EngineException("engine is closed");
        }
        return handle;
    }

    private static void requireArgument(Object value, String name) {
        if (value == null) {
            throw new EngineException(name + " must not be null");
        }
    }
}
