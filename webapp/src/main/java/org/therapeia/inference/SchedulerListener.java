package org.therapeia.inference;

/** What the engine thread reports as it works (for metrics); called on the engine thread, keep it quick. */
public interface SchedulerListener {

    /** One engine step decoded {@code batchSize} sequences and produced {@code tokens} tokens in {@code nanos}. */
    void onStep(int batchSize, int tokens, long nanos);

    /** A sequence's first token came {@code nanos} after it was submitted. */
    void onFirstToken(long nanos);

    SchedulerListener NONE = new SchedulerListener() {
        @Override
        public void onStep(int batchSize, int tokens, long nanos) {
        }

        @Override
        public void onFirstToken(long nanos) {
        }
    };
}
