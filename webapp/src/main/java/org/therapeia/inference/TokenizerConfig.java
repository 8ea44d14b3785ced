package org.therapeia.inference;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a model folder says about prompting: the chat template and the BOS/EOS token strings the
 * template refers to. The template comes from {@code chat_template.jinja} (what transformers 4.43+
 * and 5.x save) or else the {@code chat_template} of {@code tokenizer_config.json} (a string, or a
 * list of named templates of which {@code default} is taken).
 *
 * @param chatTemplate the Jinja source
 * @param bosToken     {@code bos_token}, or "" when the model has none
 * @param eosToken     {@code eos_token}, or ""
 */
public record TokenizerConfig(String chatTemplate, String bosToken, String eosToken) {

    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
    public static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";

    /**
     * @throws TokenizerException naming the file when the folder has no chat template or a file is
     *                            not valid JSON
     */
    public static TokenizerConfig load(Path modelDir) {
        Path configFile = modelDir.resolve(TOKENIZER_CONFIG_JSON);
        JsonObject config = Files.isRegularFile(configFile) ? readObject(configFile) : JsonValue.EMPTY_JSON_OBJECT;
        String template = null;
        Path jinja = modelDir.resolve(CHAT_TEMPLATE_JINJA);
        if (Files.isRegularFile(jinja)) {
            try {
                template = Files.readString(jinja, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new TokenizerException("cannot read " + jinja + ": " + e.getMessage(), e);
            }
        } else {
            template = templateFrom(config.get("chat_template"), configFile);
        }
        if (template == null || template.isBlank()) {
            throw new TokenizerException("model folder " + modelDir + " has no chat template (neither "
                    + CHAT_TEMPLATE_JINJA + " nor chat_template in " + TOKENIZER_CONFIG_JSON + ")");
        }
        return new TokenizerConfig(template, token(config.get("bos_token")), token(config.get("eos_token")));
    }

    private static JsonObject readObject(Path file) {
        try (JsonReader reader = Json.createReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
            return reader.readObject();
        } catch (IOException | JsonException e) {
            throw new TokenizerException(file + " is not a readable JSON object: " + e.getMessage(), e);
        }
    }

    private static String templateFrom(JsonValue value, Path file) {
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() == JsonValue.ValueType.STRING) {
            return ((JsonString) value).getString();
        }
        if (value.getValueType() == JsonValue.ValueType.ARRAY) {
            for (JsonValue item : value.asJsonArray()) {
                if (item.getValueType() == JsonValue.ValueType.OBJECT
                        && "default".equals(item.asJsonObject().getString("name", null))) {
                    return item.asJsonObject().getString("template", null);
                }
            }
        }
        throw new TokenizerException("chat_template in " + file + " is neither a string nor a list with a "
                + "\"default\" template");
    }

    /** A special token given as a string or as an AddedToken object {"content": ...}. */
    private static String token(JsonValue value) {
        if (value == null) {
            return "";
        }
        if (value.getValueType() == JsonValue.ValueType.STRING) {
            return ((JsonString) value).getString();
        }
        if (value.getValueType() == JsonValue.ValueType.OBJECT) {
            return value.asJsonObject().getString("content", "");
        }
        return "";
    }
}
