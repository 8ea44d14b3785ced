package org.therapeia.engine;

/**
 * The JNI surface: every native method of the binding, static, on {@code long} handles to a C++
 * {@code therapeia::Engine}. {@code javac -h} generates the C header from this class, so the C++
 * signatures cannot drift. Only {@link Engine} calls these (after {@link NativeLibrary#load()}),
 * and it guarantees a handle is live for the duration of each call. Every entry point turns a
 * C++ error into an {@link EngineException}.
 */
final class NativeEngine {

    private NativeEngine() {
    }

    /** Loads a model; returns the handle that {@link #destroy} frees. */
    static native long create(String modelDir, String dtype, String device, int maxSlots, int maxContext,
                              int threads, boolean prefixCache);

    static native void destroy(long handle);

    /** Queues a sequence; returns its id. */
    static native long add(long handle, int[] promptIds, int maxNewTokens, double temperature, int topK,
                           double topP, double repetitionPenalty, double frequencyPenalty,
                           double presencePenalty, long seed, long reuseScope);

    /** One scheduler step: one event per sequence that produced a token or failed. */
    static native StepEvent[] step(long handle);

    static native void cancel(long handle, long sequenceId);

    /**
     * waiting, running, freeSlots, totalSlots, maxContext, vocabSize, steps, lastBatchSize, tokensGenerated,
     * warmSlots, warmTokens, promptTokensReused, promptTokensComputed.
     */
    static native long[] stats(long handle);

    /** Full forward pass without the KV cache: logits [T * V], row-major. */
    static native float[] logits(long handle, int[] ids);

    static native int[] eosTokenIds(long handle);

    static native String architecture(long handle);
}
