package org.therapeia.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonStructure;
import jakarta.json.JsonValue;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.therapeia.config.InferenceConfig;

/**
 * Reads and validates the body of {@code POST /api/v1/inference}. It parses with JSON-P rather
 * than binding with JSON-B so that every error, from a body over the size limit to a wrong type
 * deep in the history, names the field at fault ({@link InvalidRequestException}). Unknown fields
 * are ignored, as the seed did.
 */
@ApplicationScoped
public class InferenceRequestReader {

    private static final Set<String> HISTORY_ROLES = Set.of(ChatMessage.USER, ChatMessage.ASSISTANT);
    /** A BCP 47 language tag, short enough to log-proof: {@code en}, {@code en-GB}, {@code fr-CA}. */
    static final java.util.regex.Pattern LOCALE = java.util.regex.Pattern.compile("[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}");

    private InferenceConfig config;

    protected InferenceRequestReader() {
    }

    @Inject
    public InferenceRequestReader(InferenceConfig config) {
        this.config = config;
    }

    /**
     * The first language of an {@code Accept-Language} header ({@code en-GB,en;q=0.8}: en-GB), or
     * null when there is none or it is not a language tag (a header is not the body: no 400).
     */
    public static String preferredLocale(String acceptLanguage) {
        if (acceptLanguage == null || acceptLanguage.length() > 256) {
            return null;
        }
        String first = acceptLanguage.split(",", 2)[0].split(";", 2)[0].strip();
        return LOCALE.matcher(first).matches() ? first : null;
    }

    /** Reads at most {@code limits.body-bytes} from {@code body} and validates what it finds. */
    public InferenceRequest read(InputStream body) {
        return parse(readLimited(body));
    }

    InferenceRequest parse(byte[] body) {
        if (body.length == 0) {
            throw new InvalidRequestException("body", "the request body is empty; send a JSON object");
        }
        JsonObject json;
        try (JsonReader reader = Json.createReader(new ByteArrayInputStream(body))) {
            JsonStructure structure = reader.read();
            if (!(structure instanceof JsonObject)) {
                throw new InvalidRequestException("body", "the request body must be a JSON object");
            }
            json = (JsonObject) structure;
        } catch (JsonException e) {
            // the parser's message gives the position only; it does not quote the input
            throw new InvalidRequestException("body", "the request body is not valid JSON: " + position(e));
        } catch (InvalidRequestException e) {
            throw e;
        } catch (RuntimeException e) {
            // Payara's parser refuses nesting deeper than its limit (1000) with a plain
            // RuntimeException rather than a JsonException: still the client's bad body, not a 500.
            throw new InvalidRequestException("body", "the request body is not valid JSON: nested too deeply");
        }

        String userInput = requiredText(json, "user_input");
        if (userInput.isBlank()) {
            throw new InvalidRequestException("user_input", "user_input must not be empty or only whitespace");
        }
        checkLength("user_input", userInput, config.maxUserInputChars());

        List<ChatMessage> history = history(json);
        String systemPrompt = optionalText(json, "system_prompt");
        if (systemPrompt != null) {
            checkLength("system_prompt", systemPrompt, config.maxMessageChars());
        }
        Boolean useCache = optionalBoolean(json, "use_cache");

        Integer maxNewTokens = optionalInteger(json, "max_new_tokens");
        if (maxNewTokens != null && (maxNewTokens < 1 || maxNewTokens > config.maxNewTokensLimit())) {
            throw new InvalidRequestException("max_new_tokens",
                    "max_new_tokens must be between 1 and " + config.maxNewTokensLimit());
        }
        Double temperature = optionalNumber(json, "temperature");
        if (temperature != null && temperature < 0) {
            throw new InvalidRequestException("temperature", "temperature must be 0 (greedy) or more");
        }
        Double topP = optionalNumber(json, "top_p");
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw new InvalidRequestException("top_p", "top_p must be greater than 0 and at most 1");
        }
        Integer topK = optionalInteger(json, "top_k");
        if (topK != null && topK < 0) {
            throw new InvalidRequestException("top_k", "top_k must be 0 (off) or more");
        }
        Double repetitionPenalty = optionalNumber(json, "repetition_penalty");
        if (repetitionPenalty != null && !(repetitionPenalty > 0)) {
            throw new InvalidRequestException("repetition_penalty", "repetition_penalty must be greater than 0");
        }
        Long seed = optionalLong(json, "seed");
        String locale = optionalText(json, "locale");
        if (locale != null && !LOCALE.matcher(locale).matches()) {
            throw new InvalidRequestException("locale", "locale must be a language tag such as en-US");
        }

        return new InferenceRequest(userInput, history, systemPrompt, useCache == null || useCache, maxNewTokens,
                temperature, topP, topK, repetitionPenalty, seed, locale);
    }

    private byte[] readLimited(InputStream body) {
        if (body == null) {
            return new byte[0];
        }
        int limit = config.maxBodyBytes();
        try {
            byte[] bytes = body.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw new InvalidRequestException("body", "the request body is larger than " + limit + " bytes");
            }
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the request body", e);
        }
    }

    private List<ChatMessage> history(JsonObject json) {
        JsonValue value = json.get("conversation_history");
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return List.of();
        }
        if (value.getValueType() != JsonValue.ValueType.ARRAY) {
            throw wrongType("conversation_history", "an array of {role, content} objects");
        }
        JsonArray array = value.asJsonArray();
        if (array.size() > config.maxHistoryMessages()) {
            throw new InvalidRequestException("conversation_history",
                    "conversation_history has more than " + config.maxHistoryMessages() + " messages");
        }
        List<ChatMessage> messages = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String at = "conversation_history[" + i + "]";
            JsonValue item = array.get(i);
            if (item.getValueType() != JsonValue.ValueType.OBJECT) {
                throw wrongType(at, "an object with role and content");
            }
            JsonObject message = item.asJsonObject();
            String role = requiredText(message, "role", at + ".role");
            if (!HISTORY_ROLES.contains(role)) {
                throw new InvalidRequestException(at + ".role",
                        at + ".role must be \"user\" or \"assistant\" (put instructions in system_prompt)");
            }
            String content = requiredText(message, "content", at + ".content");
            checkLength(at + ".content", content, config.maxMessageChars());
            messages.add(new ChatMessage(role, content));
        }
        return messages;
    }

    private static String requiredText(JsonObject json, String name) {
        return requiredText(json, name, name);
    }

    private static String requiredText(JsonObject json, String name, String field) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            throw new InvalidRequestException(field, field + " is required");
        }
        if (value.getValueType() != JsonValue.ValueType.STRING) {
            throw wrongType(field, "a string");
        }
        return ((JsonString) value).getString();
    }

    private static String optionalText(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.STRING) {
            throw wrongType(name, "a string");
        }
        return ((JsonString) value).getString();
    }

    private static Boolean optionalBoolean(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() == JsonValue.ValueType.TRUE) {
            return Boolean.TRUE;
        }
        if (value.getValueType() == JsonValue.ValueType.FALSE) {
            return Boolean.FALSE;
        }
        throw wrongType(name, "true or false");
    }

    private static Double optionalNumber(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.NUMBER) {
            throw wrongType(name, "a number");
        }
        double d = ((JsonNumber) value).doubleValue();
        if (!Double.isFinite(d)) {
            throw wrongType(name, "a finite number");
        }
        return d;
    }

    private static Integer optionalInteger(JsonObject json, String name) {
        Long value = optionalLong(json, name);
        if (value == null) {
            return null;
        }
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new InvalidRequestException(name, name + " is out of range");
        }
        return value.intValue();
    }

    private static Long optionalLong(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.NUMBER) {
            throw wrongType(name, "an integer");
        }
        BigDecimal number = ((JsonNumber) value).bigDecimalValue();
        try {
            return number.longValueExact();
        } catch (ArithmeticException e) {
            try {
                return number.stripTrailingZeros().longValueExact();
            } catch (ArithmeticException notIntegral) {
                throw wrongType(name, "an integer");
            }
        }
    }

    private static void checkLength(String field, String text, int maxChars) {
        int length = text.codePointCount(0, text.length());
        if (length > maxChars) {
            throw new InvalidRequestException(field, field + " is longer than " + maxChars + " characters");
        }
    }

    private static InvalidRequestException wrongType(String field, String expected) {
        return new InvalidRequestException(field, field + " must be " + expected);
    }

    private static String position(JsonException e) {
        if (e instanceof jakarta.json.stream.JsonParsingException parsing && parsing.getLocation() != null) {
            return "line " + parsing.getLocation().getLineNumber() + ", column "
                    + parsing.getLocation().getColumnNumber();
        }
        return "unexpected structure";
    }
}
