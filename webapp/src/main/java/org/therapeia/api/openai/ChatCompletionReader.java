package org.therapeia.api.openai;

import static org.therapeia.api.JsonBody.checkLength;
import static org.therapeia.api.JsonBody.optionalBoolean;
import static org.therapeia.api.JsonBody.optionalIntegral;
import static org.therapeia.api.JsonBody.optionalText;
import static org.therapeia.api.JsonBody.wrongType;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceRequestReader;
import org.therapeia.api.InvalidRequestException;
import org.therapeia.api.JsonBody;
import org.therapeia.api.ModelNotFoundException;
import org.therapeia.api.SamplingFields;
import org.therapeia.api.UnsupportedParameterException;
import org.therapeia.config.InferenceConfig;
import org.therapeia.config.SamplingRanges;

/**
 * Reads and validates the body of {@code POST /v1/chat/completions} (the OpenAI API reference;
 * vLLM's names for the extensions {@code top_k} and {@code repetition_penalty}) into the request
 * model the seed's API uses too, with the same field readers and ranges ({@link JsonBody},
 * {@link SamplingRanges}). Unknown fields are ignored; well-known ones whose feature is not
 * offered ({@code tools}, {@code logprobs}, {@code logit_bias}, a {@code response_format} other
 * than text, {@code audio} output, {@code n} other than 1) are refused by name. {@code user} is accepted and never
 * used or logged.
 *
 * <p>The messages map onto the seed's conversation: leading {@code system} and {@code developer}
 * messages (developer is system) form the system prompt, joined by a blank line; then user and
 * assistant turns; the last message must be the user's. Without a system message the configured
 * {@code default_system_prompt} applies, as in the seed's API.
 */
@ApplicationScoped
public class ChatCompletionReader {

    private static final String SYSTEM = "system";
    private static final String DEVELOPER = "developer";

    private InferenceConfig config;

    protected ChatCompletionReader() {
    }

    @Inject
    public ChatCompletionReader(InferenceConfig config) {
        this.config = config;
    }

    public ChatCompletionRequest read(InputStream body) {
        return parse(JsonBody.readLimited(body, config.maxBodyBytes()));
    }

    ChatCompletionRequest parse(byte[] body) {
        JsonObject json = JsonBody.parse(body);
        refuseUnsupported(json);

        String model = optionalText(json, "model");
        if (model == null) {
            throw new InvalidRequestException("model", "model is required: the served model is "
                    + config.modelId() + " (GET /v1/models)");
        }
        if (!config.servesModel(model)) {
            throw ModelNotFoundException.notServed("model", config.servedModelNames());
        }

        Conversation conversation = conversation(json);

        int tokenLimit = config.maxNewTokensLimit();
        Long maxCompletionTokens = optionalIntegral(json, "max_completion_tokens",
                SamplingRanges.maxNewTokensRule(tokenLimit), v -> SamplingRanges.maxNewTokens(v, tokenLimit));
        Long maxTokens = optionalIntegral(json, "max_tokens", SamplingRanges.maxNewTokensRule(tokenLimit),
                v -> SamplingRanges.maxNewTokens(v, tokenLimit));
        Long maxNewTokens = maxCompletionTokens != null ? maxCompletionTokens : maxTokens;
        SamplingFields sampling = SamplingFields.read(json);
        optionalIntegral(json, "n", "1 (one choice per request)", v -> v == 1);
        // who may share this request's prompt prefix (prefix_cache.scope isolated): cache_salt, else user
        String cacheSalt = optionalText(json, "cache_salt");
        String user = optionalText(json, "user");

        Boolean stream = optionalBoolean(json, "stream");
        boolean streamed = stream != null && stream;
        boolean includeUsage = includeUsage(json, streamed);

        InferenceRequest inference = new InferenceRequest(conversation.userInput, conversation.history,
                conversation.systemPrompt, true, maxNewTokens == null ? null : maxNewTokens.intValue(),
                sampling.temperature(), sampling.topP(), sampling.topK(), sampling.repetitionPenalty(), sampling.seed(),
                sampling.frequencyPenalty(), sampling.presencePenalty(), sampling.stop())
                .withCacheSalt(cacheSalt != null ? cacheSalt : user)
                .withDefaultLocale(InferenceRequestReader.optionalLocale(json)); // an extension, as cache_salt
        return new ChatCompletionRequest(inference, streamed, includeUsage);
    }

    /** Whether a stream ends with a usage chunk: stream_options is only for streams (as vLLM answers). */
    private static boolean includeUsage(JsonObject json, boolean streamed) {
        JsonValue options = json.get("stream_options");
        if (options == null || options.getValueType() == JsonValue.ValueType.NULL) {
            return false;
        }
        if (options.getValueType() != JsonValue.ValueType.OBJECT) {
            throw wrongType("stream_options", "an object");
        }
        if (!streamed) {
            throw new InvalidRequestException("stream_options", "stream_options is allowed only with stream: true");
        }
        JsonValue include = options.asJsonObject().get("include_usage");
        if (include == null || include.getValueType() == JsonValue.ValueType.NULL) {
            return false;
        }
        if (include.getValueType() != JsonValue.ValueType.TRUE && include.getValueType() != JsonValue.ValueType.FALSE) {
            throw wrongType("stream_options.include_usage", "true or false");
        }
        return include.getValueType() == JsonValue.ValueType.TRUE;
    }

    /** Well-known fields whose feature the service does not offer: refused by name. */
    private static void refuseUnsupported(JsonObject json) {
        if (isSet(json.get("tools"))) {
            throw new UnsupportedParameterException("tools", "tools (function calling) are not supported");
        }
        JsonValue toolChoice = json.get("tool_choice");
        if (isSet(toolChoice) && !(toolChoice instanceof JsonString s && s.getString().equals("none"))) {
            throw new UnsupportedParameterException("tool_choice", "tool_choice is not supported (no tools)");
        }
        if (isSet(json.get("functions"))) {
            throw new UnsupportedParameterException("functions", "functions (function calling) are not supported");
        }
        if (isSet(json.get("function_call"))) {
            throw new UnsupportedParameterException("function_call", "function_call is not supported");
        }
        // a boolean in OpenAI's reference: any other value is refused, not read as false
        if (Boolean.TRUE.equals(optionalBoolean(json, "logprobs"))) {
            throw new UnsupportedParameterException("logprobs", "logprobs are not supported");
        }
        if (isSet(json.get("top_logprobs"))) {
            throw new UnsupportedParameterException("top_logprobs", "top_logprobs are not supported");
        }
        JsonValue logitBias = json.get("logit_bias");
        if (isSet(logitBias) && !(logitBias.getValueType() == JsonValue.ValueType.OBJECT
                && logitBias.asJsonObject().isEmpty())) {
            throw new UnsupportedParameterException("logit_bias", "logit_bias is not supported");
        }
        // audio output: a client that asked for it would read a reply without the audio it expects
        JsonValue modalities = json.get("modalities");
        if (isSet(modalities) && !(modalities.getValueType() == JsonValue.ValueType.ARRAY
                && modalities.asJsonArray().stream().allMatch(m -> m instanceof JsonString t
                        && t.getString().equals("text")))) {
            throw new UnsupportedParameterException("modalities", "only text output is supported (modalities: "
                    + "[\"text\"])");
        }
        if (isSet(json.get("audio"))) {
            throw new UnsupportedParameterException("audio", "audio output is not supported");
        }
        JsonValue format = json.get("response_format");
        if (isSet(format)) {
            JsonValue type = format.getValueType() == JsonValue.ValueType.OBJECT ? format.asJsonObject().get("type")
                    : null;
            if (!(type instanceof JsonString s && s.getString().equals("text"))) {
                throw new UnsupportedParameterException("response_format",
                        "response_format other than {\"type\": \"text\"} is not supported");
            }
        }
    }

    private static boolean isSet(JsonValue value) {
        return value != null && value.getValueType() != JsonValue.ValueType.NULL
                && !(value.getValueType() == JsonValue.ValueType.ARRAY && value.asJsonArray().isEmpty());
    }

    /** The messages as the seed's conversation: system prompt, history, the user's last message. */
    private Conversation conversation(JsonObject json) {
        JsonValue value = json.get("messages");
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            throw new InvalidRequestException("messages", "messages is required");
        }
        if (value.getValueType() != JsonValue.ValueType.ARRAY) {
            throw wrongType("messages", "an array of {role, content} objects");
        }
        JsonArray array = value.asJsonArray();
        if (array.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must hold at least the user's message");
        }
        List<String> system = new ArrayList<>();
        List<ChatMessage> history = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            String at = "messages[" + i + "]";
            if (array.get(i).getValueType() != JsonValue.ValueType.OBJECT) {
                throw wrongType(at, "an object with role and content");
            }
            JsonObject message = array.get(i).asJsonObject();
            String role = role(message, at);
            if (isSet(message.get("tool_calls"))) {
                throw new UnsupportedParameterException(at + ".tool_calls", "tool calls are not supported");
            }
            String content = content(message, at);
            if (role.equals(SYSTEM) || role.equals(DEVELOPER)) {
                if (!history.isEmpty()) {
                    throw new InvalidRequestException(at + ".role",
                            "system and developer messages must come before the conversation's first turn");
                }
                checkLength(at + ".content", content, config.maxMessageChars());
                system.add(content);
            } else {
                history.add(new ChatMessage(role, content));
            }
        }
        if (history.isEmpty() || !history.get(history.size() - 1).role().equals(ChatMessage.USER)) {
            throw new InvalidRequestException("messages", "the last message must be the user's");
        }
        String at = "messages[" + (array.size() - 1) + "].content";
        String userInput = history.remove(history.size() - 1).content();
        if (userInput.isBlank()) {
            throw new InvalidRequestException(at, "the user's last message must not be empty or only whitespace");
        }
        checkLength(at, userInput, config.maxUserInputChars());
        if (history.size() > config.maxHistoryMessages()) {
            throw new InvalidRequestException("messages", "messages holds more than " + config.maxHistoryMessages()
                    + " earlier turns");
        }
        for (int i = 0; i < history.size(); i++) {
            checkLength("messages[" + (system.size() + i) + "].content", history.get(i).content(),
                    config.maxMessageChars());
        }
        String systemPrompt = system.isEmpty() ? null : String.join("\n\n", system);
        if (systemPrompt != null) {
            checkLength("messages", systemPrompt, config.maxMessageChars());
        }
        return new Conversation(systemPrompt, history, userInput);
    }

    private static String role(JsonObject message, String at) {
        JsonValue role = message.get("role");
        if (role == null || role.getValueType() == JsonValue.ValueType.NULL) {
            throw new InvalidRequestException(at + ".role", at + ".role is required");
        }
        if (!(role instanceof JsonString s)) {
            throw wrongType(at + ".role", "a string");
        }
        return switch (s.getString()) {
            case SYSTEM, DEVELOPER, ChatMessage.USER, ChatMessage.ASSISTANT -> s.getString();
            case "tool", "function" -> throw new UnsupportedParameterException(at + ".role",
                    "tool messages are not supported (no tools)");
            default -> throw new InvalidRequestException(at + ".role",
                    at + ".role must be system, developer, user or assistant");
        };
    }

    /** A string, or an array of text parts whose texts are joined. */
    private static String content(JsonObject message, String at) {
        String field = at + ".content";
        JsonValue content = message.get("content");
        if (content == null || content.getValueType() == JsonValue.ValueType.NULL) {
            throw new InvalidRequestException(field, field + " is required");
        }
        if (content instanceof JsonString s) {
            return JsonBody.wellFormed(field, s.getString());
        }
        if (content.getValueType() != JsonValue.ValueType.ARRAY) {
            throw wrongType(field, "a string or an array of {\"type\": \"text\", \"text\"} parts");
        }
        StringBuilder text = new StringBuilder();
        JsonArray parts = content.asJsonArray();
        for (int j = 0; j < parts.size(); j++) {
            String partAt = field + "[" + j + "]";
            if (parts.get(j).getValueType() != JsonValue.ValueType.OBJECT) {
                throw wrongType(partAt, "an object {\"type\": \"text\", \"text\"}");
            }
            JsonObject part = parts.get(j).asJsonObject();
            JsonValue type = part.get("type");
            if (!(type instanceof JsonString t) || !t.getString().equals("text")) {
                throw new UnsupportedParameterException(partAt + ".type",
                        "only text content parts are supported ({\"type\": \"text\", \"text\"})");
            }
            if (!(part.get("text") instanceof JsonString partText)) {
                throw wrongType(partAt + ".text", "a string");
            }
            text.append(partText.getString());
        }
        // the joined text: a surrogate pair split between two parts is whole again
        return JsonBody.wellFormed(field, text.toString());
    }

    private record Conversation(String systemPrompt, List<ChatMessage> history, String userInput) {
        Conversation {
            history = List.copyOf(history);
        }
    }
}
