package org.therapeia.inference;

import java.util.concurrent.Executor;

/**
 * What a request needs of a loaded model. Holds no engine: requests reach it only through the
 * scheduler.
 *
 * @param maxContext  tokens per sequence the engine allows (config max_context_length, capped by the model)
 * @param fingerprint the model's identity in cache keys ({@link ModelFingerprint}), not its folder name
 * @param samplingDefaults what its generation_config.json sets ({@link SamplingDefaults#MODEL_THEN_SERVICE})
 * @param streamThreads    runs the streamed replies' drains ({@link StreamingDecoder}) and every generation's
 *                         completion: the engine thread submits to it
 */
public record LoadedModel(String modelId, PromptBuilder promptBuilder, Tokenizer tokenizer, Scheduler scheduler,
                          int maxContext, String fingerprint, ModelSamplingDefaults samplingDefaults,
                          Executor streamThreads) {
}
