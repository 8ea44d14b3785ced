package org.therapeia.engine;

/**
 * One token produced by {@link Engine#step()} for one sequence.
 *
 * @param finished true when the sequence ended with this token (an EOS id, max_new_tokens or the
 *                 context limit); its slot is free again and it produces no further events
 */
public record StepEvent(long sequenceId, int token, boolean finished) {
}
