package org.therapeia.api;

import static org.therapeia.api.JsonBody.optionalDecimal;
import static org.therapeia.api.JsonBody.optionalIntegral;
import static org.therapeia.api.JsonBody.stopStrings;

import jakarta.json.JsonObject;
import java.util.List;
import org.therapeia.config.SamplingRanges;

/**
 * The generation parameters both APIs take under the same names (the seed's and the OpenAI one),
 * read from a request body and checked against {@link SamplingRanges}: each out-of-range value is a
 * 400 naming its field. Null where the body leaves a parameter out.
 */
public record SamplingFields(Double temperature, Double topP, Integer topK, Double repetitionPenalty, Long seed,
                             Double frequencyPenalty, Double presencePenalty, List<String> stop) {

    public static SamplingFields read(JsonObject json) {
        Double temperature = optionalDecimal(json, "temperature", SamplingRanges.TEMPERATURE_RULE,
                SamplingRanges::temperature);
        Double topP = optionalDecimal(json, "top_p", SamplingRanges.TOP_P_RULE, SamplingRanges::topP);
        Long topK = optionalIntegral(json, "top_k", SamplingRanges.TOP_K_RULE, SamplingRanges::topK);
        Double repetitionPenalty = optionalDecimal(json, "repetition_penalty", SamplingRanges.REPETITION_PENALTY_RULE,
                SamplingRanges::repetitionPenalty);
        Long seed = optionalIntegral(json, "seed", SamplingRanges.SEED_RULE, v -> true);
        Double frequencyPenalty = optionalDecimal(json, "frequency_penalty", SamplingRanges.PENALTY_RULE,
                SamplingRanges::additivePenalty);
        Double presencePenalty = optionalDecimal(json, "presence_penalty", SamplingRanges.PENALTY_RULE,
                SamplingRanges::additivePenalty);
        List<String> stop = stopStrings(json, "stop");
        return new SamplingFields(temperature, topP, topK == null ? null : topK.intValue(), repetitionPenalty, seed,
                frequencyPenalty, presencePenalty, stop);
    }
}
