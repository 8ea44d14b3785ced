package org.therapeia.benchmark;

/** The seed's two benchmarks, and multi-turn conversations (the prefix cache's workload). */
public enum Mode {
    /** One request at a time: latency without queueing (the seed's run_sequential_benchmark). */
    SEQUENTIAL("sequential"),
    /** Up to C requests in flight: latency and throughput under load (run_concurrent_benchmark). */
    CONCURRENT("concurrent"),
    /**
     * N conversations of T turns, up to C at a time; each turn resends the system prompt and the
     * history with the model's real replies, so the prompt grows turn by turn ({@link Conversation}).
     */
    CONVERSATION("conversation");

    private final String word;

    Mode(String word) {
        this.word = word;
    }

    /** The command-line word, also used in reports. */
    public String word() {
        return word;
    }

    static Mode fromWord(String word) {
        for (Mode mode : values()) {
            if (mode.word.equals(word)) {
                return mode;
            }
        }
        return null;
    }
}
