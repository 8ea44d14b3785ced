package org.therapeia.engine;

/**
 * Generation settings of one sequence, with Hugging Face semantics: temperature 0 is greedy,
 * topK 0 and topP 1 disable those filters, repetitionPenalty 1 is off. The same seed and the
 * same prompt give the same tokens. Values are checked by the engine ({@link Engine#add}).
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP,
                             double repetitionPenalty, long seed) {

    /** Argmax decoding of up to {@code maxNewTokens} tokens. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0.0, 0, 1.0, 1.0, 0L);
    }
}
