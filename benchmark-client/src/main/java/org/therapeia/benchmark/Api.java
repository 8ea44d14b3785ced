package org.therapeia.benchmark;

/** Which of the service's two APIs a run speaks ({@code --api}). */
public enum Api {
    /** The seed's own: {@code POST /api/v1/inference} (and {@code /stream}). */
    SEED("seed"),
    /** The OpenAI-compatible one: {@code POST /v1/chat/completions}, streamed or not. */
    OPENAI("openai");

    private final String word;

    Api(String word) {
        this.word = word;
    }

    /** The command-line word, also used in reports. */
    public String word() {
        return word;
    }

    /**
     * Whether its reply says whether it came from the cache and how long the engine took (the
     * seed's {@code cache_hit}, {@code metadata.generation_time} and {@code queue_time}); OpenAI's
     * reply has no such fields, so a run over it reports neither.
     */
    public boolean reportsServerFigures() {
        return this == SEED;
    }

    static Api fromWord(String word) {
        for (Api api : values()) {
            if (api.word.equals(word)) {
                return api;
            }
        }
        return null;
    }
}
