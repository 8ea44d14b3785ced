package org.therapeia.benchmark;

/** The seed's two benchmarks. */
public enum Mode {
    /** One request at a time: latency without queueing (the seed's run_sequential_benchmark). */
    SEQUENTIAL("sequential"),
    /** Up to C requests in flight: latency and throughput under load (run_concurrent_benchmark). */
    CONCURRENT("concurrent");

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
