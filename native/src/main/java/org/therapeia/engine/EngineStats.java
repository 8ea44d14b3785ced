package org.therapeia.engine;

/**
 * A snapshot of the engine's scheduler and counters.
 *
 * @param waiting         sequences queued for a free slot
 * @param running         sequences holding a KV cache slot
 * @param freeSlots       KV cache slots running no sequence (cold, or warm: still holding an earlier
 *                        sequence's KV, which the next sequence that needs the slot overwrites)
 * @param totalSlots      KV cache slots in all
 * @param maxContext      tokens per sequence (prompt + generated)
 * @param vocabSize       the model's vocabulary size
 * @param steps           calls of step() since load
 * @param lastBatchSize   sequences decoded together in the last step
 * @param tokensGenerated tokens generated since load
 * @param warmSlots       free slots holding an earlier sequence's KV (the prefix cache)
 * @param warmTokens      tokens those warm slots hold
 * @param promptTokensReused   prompt tokens since load whose KV came from a warm slot
 * @param promptTokensComputed prompt tokens since load that were prefilled
 */
public record EngineStats(long waiting, long running, long freeSlots, long totalSlots, long maxContext,
                          long vocabSize, long steps, long lastBatchSize, long tokensGenerated,
                          long warmSlots, long warmTokens, long promptTokensReused, long promptTokensComputed) {

    /** Number of values {@link NativeEngine#stats} returns, in the order of the components. */
    static final int FIELDS = 13;

    static EngineStats of(long[] v) {
        if (v == null || v.length != FIELDS) {
            throw new EngineException("native stats returned " + (v == null ? "null" : v.length + " values")
                    + ", expected " + FIELDS);
        }
        return new EngineStats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]);
    }
}
