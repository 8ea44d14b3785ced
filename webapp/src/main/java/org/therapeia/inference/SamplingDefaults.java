package org.therapeia.inference;

/**
 * Where a sampling parameter that a request leaves out ({@code temperature}, {@code top_p},
 * {@code top_k}, {@code repetition_penalty}) takes its value from: each API's documented rule.
 */
public enum SamplingDefaults {

    /**
     * The service configuration: the seed's API, whose documented defaults are its
     * {@code InferenceConfig}'s (0.7, 0.9, 50, 1.1, passed to {@code generate} over whatever the
     * model's own generation config says).
     */
    SERVICE,

    /**
     * The model's {@code generation_config.json} where it sets the parameter
     * ({@link ModelSamplingDefaults}), else the service configuration: the OpenAI-compatible API,
     * as vLLM serves it.
     */
    MODEL_THEN_SERVICE
}
