package org.therapeia.engine;

/**
 * One token produced by {@link Engine#step()} for one sequence, or the failure that ended it.
 *
 * @param token    the new token; -1 when the sequence failed
 * @param finished true when the sequence ended with this event (an EOS id, max_new_tokens, the
 *                 context limit, or a failure); its slot is free again and it produces no further events
 * @param failure  null, unless this sequence failed on its own (its logits were not finite, sampling
 *                 or its prefill threw): then the cause, naming no user text. The other sequences
 *                 of the same step are unaffected and go on.
 * @param promptTokensReused leading prompt tokens of this sequence whose KV came from a warm slot
 *                 (the previous turn of the conversation, or another sequence with the same prefix)
 *                 instead of being computed; the same on every event of the sequence
 */
public record StepEvent(long sequenceId, int token, boolean finished, String failure, int promptTokensReused) {

    /** A token of a sequence that reused nothing; the native engine uses the canonical constructor. */
    public StepEvent(long sequenceId, int token, boolean finished) {
        this(sequenceId, token, finished, null, 0);
    }

    /** Whether this sequence failed and ended without a token ({@link #failure()} says why). */
    public boolean failed() {
        return failure != null;
    }
}
