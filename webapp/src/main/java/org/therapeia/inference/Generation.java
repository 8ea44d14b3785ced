package org.therapeia.inference;

/**
 * The outcome of one sequence.
 *
 * @param tokens            generated token ids, the final end-of-sequence token included
 * @param stoppedByEos      true when an end-of-sequence token ended it (finish reason "stop"),
 *                          false when max_new_tokens or the context did ("length")
 * @param queueNanos        submitted to admitted into the engine
 * @param firstTokenNanos   submitted to first token
 * @param generationNanos   admitted to last token
 * @param promptTokensReused leading prompt tokens whose KV the engine reused from a warm slot (an
 *                          earlier turn) instead of computing them
 */
public record Generation(int[] tokens, boolean stoppedByEos, long queueNanos, long firstTokenNanos,
                         long generationNanos, int promptTokensReused) {
}
