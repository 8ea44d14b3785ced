package org.therapeia.engine;

/**
 * Generation settings of one sequence, with Hugging Face semantics: temperature 0 is greedy,
 * topK 0 and topP 1 disable those filters, repetitionPenalty 1 is off. frequencyPenalty and
 * presencePenalty have OpenAI's additive semantics over the generated tokens (0 is off, each in
 * [-2, 2]). The same seed and the same prompt give the same tokens. Values are checked by the
 * engine ({@link Engine#add}).
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP,
                             double repetitionPenalty, double frequencyPenalty, double presencePenalty, long seed) {

    /** Without frequency and presence penalties. */
    public SamplingParams(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
                          long seed) {
        this(maxNewTokens, temperature, topK, topP, repetitionPenalty, 0.0, 0.0, seed);
    }

    /** Argmax decoding of up to {@code maxNewTokens} tokens. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0.0, 0, 1.0, 1.0, 0L);
    }

    /** The same settings with another seed. */
    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, frequencyPenalty,
                presencePenalty, newSeed);
    }
}
