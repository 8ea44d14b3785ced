package org.therapeia.api;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonConfig;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonStructure;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoublePredicate;
import java.util.function.LongPredicate;
import org.therapeia.config.SamplingRanges;

/**
 * Reading a request body as JSON with JSON-P, field by field, so that every error names the
 * field at fault ({@link InvalidRequestException}) and states the rule broken, never the value
 * sent. Shared by the readers of both APIs (the seed's and the OpenAI-compatible one), so that a
 * field that both accept is validated the same way.
 */
public final class JsonBody {

    /**
     * A key given twice is refused rather than read as its last value: a gateway or filter in
     * front of the service that read the first (as some parsers do) would check one request while
     * this service answered another, e.g. one {@code model} or {@code messages} for its policy and
     * the other for the model. No client means to send one.
     */
    private static final JsonReaderFactory READERS = Json.createReaderFactory(
            Map.of(JsonConfig.KEY_STRATEGY, JsonConfig.KeyStrategy.NONE));

    private JsonBody() {
    }

    /** Reads at most {@code limit} bytes of {@code body} and parses them as one JSON object. */
    public static JsonObject read(InputStream body, int limit) {
        return parse(readLimited(body, limit));
    }

    /** {@code body} as one JSON object (UTF-8, an optional byte order mark). */
    public static JsonObject parse(byte[] body) {
        if (body.length == 0) {
            throw new InvalidRequestException("body", "the request body is empty; send a JSON object");
        }
        JsonObject json;
        try (JsonReader reader = READERS.createReader(new StringReader(utf8(body)))) {
            JsonStructure structure = reader.read();
            if (!(structure instanceof JsonObject)) {
                throw new InvalidRequestException("body", "the request body must be a JSON object");
            }
            json = (JsonObject) structure;
        } catch (JsonException e) {
            // only the position is passed on: the parser's message may quote the input (a duplicate key's name)
            if (e.getMessage() != null && e.getMessage().startsWith("Duplicate key")) {
                throw new InvalidRequestException("body", "the request body gives a key twice in one object: "
                        + position(e));
            }
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

        return json;
    }

    /**
     * At most {@code limit} bytes of {@code body}; more is refused (field {@code body}), and so is a
     * body that stops arriving: the client went away or stalled past the server's read timeout.
     * That is the client's doing, not an internal error, so it is neither logged as one nor counted
     * as one (anyone could fill the log by opening requests and never finishing them).
     */
    public static byte[] readLimited(InputStream body, int limit) {
        if (body == null) {
            return new byte[0];
        }
        byte[] bytes;
        try {
            bytes = body.readNBytes(limit + 1);
        } catch (IOException e) {
            throw new InvalidRequestException("body", "the request body could not be read to its end (the client "
                    + "stopped sending it)");
        }
        if (bytes.length > limit) {
            throw new InvalidRequestException("body", "the request body is larger than " + limit + " bytes");
        }
        return bytes;
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

    public static String requiredText(JsonObject json, String name) {
        return requiredText(json, name, name);
    }

    public static String requiredText(JsonObject json, String name, String field) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            throw new InvalidRequestException(field, field + " is required");
        }
        if (value.getValueType() != JsonValue.ValueType.STRING) {
            throw wrongType(field, "a string");
        }
        return wellFormed(field, ((JsonString) value).getString());
    }

    public static String optionalText(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.STRING) {
            throw wrongType(name, "a string");
        }
        return wellFormed(name, ((JsonString) value).getString());
    }

    /**
     * {@code text}, refused when it holds an unpaired surrogate. The body's bytes are checked as
     * UTF-8, but a JSON escape ({@code \\uD800} without its pair) still makes one, which is no
     * character: the tokenizer, the safety rules and the response cache's key (UTF-8, where it
     * becomes {@code ?}, so that two different prompts would share a cached reply) would each read
     * it differently.
     */
    public static String wellFormed(String field, String text) {
        if (text.codePoints().anyMatch(c -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE)) {
            throw new InvalidRequestException(field, field + " must be Unicode text: it holds an unpaired "
                    + "surrogate (a \\uD800-\\uDFFF escape without its pair)");
        }
        return text;
    }

    public static Boolean optionalBoolean(JsonObject json, String name) {
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
    public static Double optionalDecimal(JsonObject json, String name, String rule, DoublePredicate accepts) {
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
    public static Long optionalIntegral(JsonObject json, String name, String rule, LongPredicate accepts) {
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

    public static void checkLength(String field, String text, int maxChars) {
        int length = text.codePointCount(0, text.length());
        if (length > maxChars) {
            throw new InvalidRequestException(field, field + " is longer than " + maxChars + " characters");
        }
    }

    public static InvalidRequestException wrongType(String field, String expected) {
        return new InvalidRequestException(field, field + " must be " + expected);
    }

    private static String position(JsonException e) {
        if (e instanceof jakarta.json.stream.JsonParsingException parsing && parsing.getLocation() != null) {
            return "line " + parsing.getLocation().getLineNumber() + ", column "
                    + parsing.getLocation().getColumnNumber();
        }
        return "unexpected structure";
    }

    /**
     * The stop strings of {@code name}: absent or null for none, a string, or an array of
     * strings; {@link SamplingRanges#STOP_RULE} states the limits.
     */
    public static List<String> stopStrings(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return List.of();
        }
        List<JsonValue> items = value.getValueType() == JsonValue.ValueType.ARRAY ? value.asJsonArray()
                : List.of(value);
        if (items.size() > SamplingRanges.STOP_MAX_STRINGS) {
            throw new InvalidRequestException(name, name + " must be " + SamplingRanges.STOP_RULE);
        }
        List<String> stops = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            String at = value.getValueType() == JsonValue.ValueType.ARRAY ? name + "[" + i + "]" : name;
            JsonValue item = items.get(i);
            if (item.getValueType() != JsonValue.ValueType.STRING
                    || !SamplingRanges.stopString(((JsonString) item).getString())) {
                throw new InvalidRequestException(at, name + " must be " + SamplingRanges.STOP_RULE);
            }
            stops.add(wellFormed(at, ((JsonString) item).getString()));
        }
        return List.copyOf(stops);
    }
}
