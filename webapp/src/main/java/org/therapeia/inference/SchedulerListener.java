package org.therapeia.inference;

/** What the engine thread reports as it works (for metrics); called on the engine thread, keep it quick. */
public interface SchedulerListener {

    /** One engine step decoded {@code batchSize} sequences and produced {@code tokens} tokens in {@code nanos}. */
    void onStep(int batchSize, int tokens, long nanos);

    /** A sequence's first token came: of its prompt, {@code reused} tokens came from a warm slot, {@code computed} were prefilled. */
    default void onPromptTokens(int reused, int computed) {
    }

    /** Why a waiting request left the queue without reaching the engine. */
    enum DropReason {
        /** its deadline (request.timeout) passed while it waited */
        DEADLINE,
        /** its caller gave it up while it waited (a streaming client gone, or the endpoint's own deadline) */
        CANCELLED
    }

    /** A waiting request was dropped before its prefill: it never took a slot. */
    default void onDropped(DropReason reason) {
    }

    SchedulerListener NONE = new SchedulerListener() {
        @Override
        public void onStep(int batchSize, int tokens, long nanos) {
        }
    };
}
