package org.therapeia.config;

/**
 * The values each generation parameter accepts: one place for every reader of requests (the
 * seed's API now, an OpenAI-style API later), for the configured defaults, and, through the
 * constants below, for the OpenAPI document. A value outside its range is refused (a 400 naming
 * the field; a deployment error for a default) rather than bent into range, so that a client
 * learns what its request meant.
 *
 * <p>Each range covers every sensible use and keeps clear of the values whose arithmetic fails
 * in float32: a temperature or repetition penalty near 0 divides logits past float32's largest
 * value (1e-39 turns every positive logit into infinity, then softmax into NaN). The engine
 * computes such values safely too (native/src/sampler.cpp), and ends a sequence that still fails
 * alone: these ranges are the first of two guards, not the only one.
 *
 * <p>Integer parameters (top_k, seed, max_new_tokens) accept a JSON number with no fractional
 * part ({@code 5.0}, {@code 5e0}); a fraction or a value beyond the stated range is refused.
 */
public final class SamplingRanges {

    /** Temperature: exactly 0 is greedy decoding; otherwise sampling within [min, max]. */
    public static final String TEMPERATURE_MIN = "0.01";
    public static final String TEMPERATURE_MAX = "5";
    public static final String TEMPERATURE_RULE =
            "0 (greedy) or between " + TEMPERATURE_MIN + " and " + TEMPERATURE_MAX;

    /** Nucleus sampling: the smallest set of tokens whose probability reaches top_p; 1 = off. */
    public static final String TOP_P_RULE = "greater than 0 and at most 1";

    /** Top-k: 0 is off; a k beyond the vocabulary keeps every token. */
    public static final String TOP_K_MAX = "2147483647";
    public static final String TOP_K_RULE = "an integer between 0 (off) and " + TOP_K_MAX;

    /** Repetition penalty (transformers' semantics): 1 is off, above 1 discourages repeats. */
    public static final String REPETITION_PENALTY_MIN = "0.01";
    public static final String REPETITION_PENALTY_MAX = "10";
    public static final String REPETITION_PENALTY_RULE =
            "between " + REPETITION_PENALTY_MIN + " and " + REPETITION_PENALTY_MAX + " (1 = off)";

    /** Seed: any 64-bit signed integer. */
    public static final String SEED_RULE = "an integer between -9223372036854775808 and 9223372036854775807";

    private static final double TEMPERATURE_LOW = Double.parseDouble(TEMPERATURE_MIN);
    private static final double TEMPERATURE_HIGH = Double.parseDouble(TEMPERATURE_MAX);
    private static final double PENALTY_LOW = Double.parseDouble(REPETITION_PENALTY_MIN);
    private static final double PENALTY_HIGH = Double.parseDouble(REPETITION_PENALTY_MAX);

    private SamplingRanges() {
    }

    /** 0 (greedy), or within [{@value #TEMPERATURE_MIN}, {@value #TEMPERATURE_MAX}]. NaN is refused. */
    public static boolean temperature(double value) {
        return value == 0 || (value >= TEMPERATURE_LOW && value <= TEMPERATURE_HIGH);
    }

    /** In (0, 1]. NaN is refused. */
    public static boolean topP(double value) {
        return value > 0 && value <= 1;
    }

    /** 0 or more (an int holds no more than {@value #TOP_K_MAX}). */
    public static boolean topK(long value) {
        return value >= 0 && value <= Integer.MAX_VALUE;
    }

    /** Within [{@value #REPETITION_PENALTY_MIN}, {@value #REPETITION_PENALTY_MAX}]. NaN is refused. */
    public static boolean repetitionPenalty(double value) {
        return value >= PENALTY_LOW && value <= PENALTY_HIGH;
    }

    /** Between 1 and {@code limit} (limits.max-new-tokens). */
    public static boolean maxNewTokens(long value, int limit) {
        return value >= 1 && value <= limit;
    }

    public static String maxNewTokensRule(int limit) {
        return "an integer between 1 and " + limit;
    }
}
