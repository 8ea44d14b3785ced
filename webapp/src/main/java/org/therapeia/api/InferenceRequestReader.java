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
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.DoublePredicate;
import java.util.function.LongPredicate;
import org.therapeia.config.InferenceConfig;
import org.therapeia.config.SamplingRanges;

/**
 * Reads and validates the body of {@code POST /api/v1/inference}. It parses with JSON-P rather
 * than binding with JSON-B so that every error, from a body over the size limit to a wrong type
 * deep in the history, names the field at fault ({@link InvalidRequestException}). Unknown fields
 * are ignored, as the seed did.
 */
@ApplicationScoped
public class InferenceRequestReader {

    private static final Set<String> HISTORY_ROLES = Set.of(ChatMessage.USER, ChatMessage.ASSISTANT);

    private InferenceConfig config;

    protected InferenceRequestReader() {
    }

    @Inject
    public InferenceRequestReader(InferenceConfig config) {
        this.config = config;
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
        try (JsonReader reader = Json.createReader(new StringReader(utf8(body)))) {
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
        } catch (NumberFormatException | UnsupportedOperationException e) {
            // Parsson refuses a number longer than 1100 characters, or with an exponent beyond 32 bits
            throw new InvalidRequestException("body",
                    "the request body is not valid JSON: a number is too long or its exponent too large");
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

        // Ranges: SamplingRanges, shared with the configured defaults and stated in the OpenAPI document.
        int tokenLimit = config.maxNewTokensLimit();
        Long maxNewTokens = optionalIntegral(json, "max_new_tokens", SamplingRanges.maxNewTokensRule(tokenLimit),
                v -> SamplingRanges.maxNewTokens(v, tokenLimit));
        Double temperature = optionalDecimal(json, "temperature", SamplingRanges.TEMPERATURE_RULE,
                SamplingRanges::temperature);
        Double topP = optionalDecimal(json, "top_p", SamplingRanges.TOP_P_RULE, SamplingRanges::topP);
        Long topK = optionalIntegral(json, "top_k", SamplingRanges.TOP_K_RULE, SamplingRanges::topK);
        Double repetitionPenalty = optionalDecimal(json, "repetition_penalty", SamplingRanges.REPETITION_PENALTY_RULE,
                SamplingRanges::repetitionPenalty);
        Long seed = optionalIntegral(json, "seed", SamplingRanges.SEED_RULE, v -> true);

        return new InferenceRequest(userInput, history, systemPrompt, useCache == null || useCache,
                maxNewTokens == null ? null : maxNewTokens.intValue(), temperature, topP,
                topK == null ? null : topK.intValue(), repetitionPenalty, seed);
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

    /**
     * The body as text. JSON between systems is UTF-8 (RFC 8259); a decoder that replaced bad bytes
     * would let a malformed, overlong or surrogate sequence reach the tokenizer as U+FFFD, so a byte
     * that is not UTF-8 refuses the request instead, naming its offset (never the bytes). A leading
     * byte order mark is ignored, as RFC 8259 allows.
     */
    private static String utf8(byte[] body) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(body.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isUnderflow()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new InvalidRequestException("body",
                    "the request body is not valid UTF-8 (at byte " + in.position() + ")");
        }
        out.flip();
        if (out.hasRemaining() && out.charAt(0) == '\uFEFF') {
            out.position(1);
        }
        return out.toString();
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

    /**
     * A number that {@code accepts} as a double, or null when absent. JSON's {@code -0} and
     * {@code 0.0} are 0; a nonzero number too small for a double (1e-400) would become 0 and is
     * refused, as is one too large (1e400). The message states the accepted range, never the value.
     */
    private static Double optionalDecimal(JsonObject json, String name, String rule, DoublePredicate accepts) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.NUMBER) {
            throw new InvalidRequestException(name, name + " must be a number: " + rule);
        }
        BigDecimal number = ((JsonNumber) value).bigDecimalValue();
        double d = number.signum() == 0 ? 0.0 : number.doubleValue();
        if ((number.signum() != 0 && d == 0.0) || !Double.isFinite(d) || !accepts.test(d)) {
            throw new InvalidRequestException(name, name + " must be " + rule);
        }
        return d;
    }

    /**
     * A number with no fractional part ({@code 5}, {@code 5.0}, {@code 5e0}) that fits a long and
     * that {@code accepts}, or null when absent; the message states the accepted range.
     */
    private static Long optionalIntegral(JsonObject json, String name, String rule, LongPredicate accepts) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        InvalidRequestException refused = new InvalidRequestException(name, name + " must be " + rule);
        if (value.getValueType() != JsonValue.ValueType.NUMBER) {
            throw refused;
        }
        BigDecimal number = ((JsonNumber) value).bigDecimalValue();
        // Digits before the point, from the precision and scale alone: checked before any exact
        // conversion, so that a number like 1e999999999 is never expanded.
        if (number.signum() != 0 && (long) number.precision() - number.scale() > 19) {
            throw refused;
        }
        long exact;
        try {
            exact = number.longValueExact(); // fails for a fraction and beyond a long
        } catch (ArithmeticException e) {
            throw refused;
        }
        if (!accepts.test(exact)) {
            throw refused;
        }
        return exact;
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
