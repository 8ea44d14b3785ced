package org.therapeia.api;

import static org.therapeia.api.JsonBody.checkLength;
import static org.therapeia.api.JsonBody.optionalBoolean;
import static org.therapeia.api.JsonBody.optionalIntegral;
import static org.therapeia.api.JsonBody.optionalText;
import static org.therapeia.api.JsonBody.requiredText;
import static org.therapeia.api.JsonBody.wrongType;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.therapeia.config.InferenceConfig;
import org.therapeia.config.SamplingRanges;

/**
 * Reads and validates the body of {@code POST /api/v1/inference}. It parses with JSON-P rather
 * than binding with JSON-B so that every error, from a body over the size limit to a wrong type
 * deep in the history, names the field at fault ({@link InvalidRequestException}; the field
 * readers are {@link JsonBody}'s, shared with the OpenAI-compatible API). Unknown fields are
 * ignored, as the seed did.
 */
@ApplicationScoped
public class InferenceRequestReader {

    private static final Set<String> HISTORY_ROLES = Set.of(ChatMessage.USER, ChatMessage.ASSISTANT);
    /**
     * A BCP 47 language tag, of bounded length: {@code en}, {@code en-GB}, {@code fr-CA}, and with
     * extension or private-use subtags ({@code fr-CA-u-nu-latn}, {@code en-US-x-clinic}), which a
     * browser or an OS may send; only the country picks the crisis resources.
     */
    static final Pattern LOCALE = Pattern.compile("[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,7}");

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

    /**
     * The body's {@code locale} (a BCP 47 tag that picks the crisis resources), or null; read by
     * both inference APIs, so that a person's country is honoured whichever one the app uses.
     */
    public static String optionalLocale(JsonObject json) {
        String locale = optionalText(json, "locale");
        if (locale != null && !LOCALE.matcher(locale).matches()) {
            throw new InvalidRequestException("locale", "locale must be a language tag such as en-US");
        }
        return locale;
    }

    /** Reads at most {@code limits.body-bytes} from {@code body} and validates what it finds. */
    public InferenceRequest read(InputStream body) {
        return parse(JsonBody.readLimited(body, config.maxBodyBytes()));
    }

    InferenceRequest parse(byte[] body) {
        JsonObject json = JsonBody.parse(body);
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
        SamplingFields sampling = SamplingFields.read(json);
        String locale = optionalLocale(json);

        return new InferenceRequest(userInput, history, systemPrompt, useCache == null || useCache,
                maxNewTokens == null ? null : maxNewTokens.intValue(), sampling.temperature(), sampling.topP(),
                sampling.topK(), sampling.repetitionPenalty(), sampling.seed(), sampling.frequencyPenalty(),
                sampling.presencePenalty(), sampling.stop(), locale, optionalText(json, "cache_salt"));
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

}
