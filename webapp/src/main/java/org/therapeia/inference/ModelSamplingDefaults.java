package org.therapeia.inference;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.DoublePredicate;
import java.util.logging.Logger;
import org.therapeia.config.SamplingRanges;

/**
 * The sampling defaults a model folder's {@code generation_config.json} sets: {@code temperature},
 * {@code top_p}, {@code top_k} and {@code repetition_penalty}, each null where the file leaves it
 * out (the fields vLLM takes from the same file). What a model's authors tuned it for, used by the
 * OpenAI-compatible API for what a request leaves out ({@link SamplingDefaults#MODEL_THEN_SERVICE}).
 * {@code do_sample} is not read, as vLLM does not: a temperature means sampling, 0 greedy.
 *
 * <p>A value outside the range a request may ask for ({@link SamplingRanges}), or not a number, is
 * left out with a warning naming the field: the service configuration's default applies instead.
 */
public record ModelSamplingDefaults(Double temperature, Double topP, Integer topK, Double repetitionPenalty) {

    public static final String GENERATION_CONFIG_JSON = "generation_config.json";
    /** A model folder without the file, or whose file sets none of the four. */
    public static final ModelSamplingDefaults NONE = new ModelSamplingDefaults(null, null, null, null);

    private static final Logger LOG = Logger.getLogger(ModelSamplingDefaults.class.getName());

    /**
     * Reads {@code modelDir/generation_config.json}; {@link #NONE} without one.
     *
     * @throws TokenizerException naming the file when it is not a readable JSON object
     */
    public static ModelSamplingDefaults load(Path modelDir) {
        Path file = modelDir.resolve(GENERATION_CONFIG_JSON);
        if (!Files.isRegularFile(file)) {
            return NONE;
        }
        JsonObject json;
        try (JsonReader reader = Json.createReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
            json = reader.readObject();
        } catch (IOException | JsonException e) {
            throw new TokenizerException(file + " is not a readable JSON object: " + e.getMessage(), e);
        }
        return of(json, file.toString());
    }

    /** The defaults {@code json} (a generation_config.json read from {@code source}) sets. */
    static ModelSamplingDefaults of(JsonObject json, String source) {
        Double temperature = decimal(json, "temperature", SamplingRanges::temperature,
                SamplingRanges.TEMPERATURE_RULE, source);
        Double topP = decimal(json, "top_p", SamplingRanges::topP, SamplingRanges.TOP_P_RULE, source);
        Double topK = decimal(json, "top_k", v -> v == Math.rint(v) && SamplingRanges.topK((long) v),
                SamplingRanges.TOP_K_RULE, source);
        Double repetitionPenalty = decimal(json, "repetition_penalty", SamplingRanges::repetitionPenalty,
                SamplingRanges.REPETITION_PENALTY_RULE, source);
        return new ModelSamplingDefaults(temperature, topP, topK == null ? null : topK.intValue(), repetitionPenalty);
    }

    private static Double decimal(JsonObject json, String name, DoublePredicate accepts, String rule, String source) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value instanceof JsonNumber number) {
            double v = number.doubleValue();
            if (Double.isFinite(v) && accepts.test(v)) {
                return v;
            }
        }
        LOG.warning(() -> source + ": " + name + " is " + value + ", not " + rule
                + "; the service configuration's " + name + " applies instead");
        return null;
    }

    public double temperature(double fallback) {
        return temperature != null ? temperature : fallback;
    }

    public double topP(double fallback) {
        return topP != null ? topP : fallback;
    }

    public int topK(int fallback) {
        return topK != null ? topK : fallback;
    }

    public double repetitionPenalty(double fallback) {
        return repetitionPenalty != null ? repetitionPenalty : fallback;
    }
}
