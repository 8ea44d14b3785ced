package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The OpenAI-compatible API on the real server, called by the official OpenAI Java SDK (and, for
 * the exact framing and error bodies, by plain HTTP). The shared server runs with api.key set.
 */
@Order(7)
class OpenAiIT extends RunningService {

    private static final String CHAT = "v1/chat/completions";

    private OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(api.base().resolve("v1").toString()).apiKey(key).maxRetries(0)
                .build();
    }

    private OpenAIClient client() {
        return client(ServerFiles.apiKey());
    }

    private String modelId() {
        return client().models().list().data().get(0).id();
    }

    private ChatCompletionCreateParams.Builder conversation() {
        return ChatCompletionCreateParams.builder().model(modelId())
                .addUserMessage("Hello")
                .addAssistantMessage("Hi, how can I help?")
                .addUserMessage("I have been feeling low.")
                .temperature(0.0).maxCompletionTokens(12);
    }

    @Test
    void modelsListsTheServedModel() {
        JsonObject models = Api.parse(api.get("v1/models", "application/json", api.keyHeader()).body());
        assertEquals("list", models.getString("object"));
        JsonObject model = models.getJsonArray("data").getJsonObject(0);
        assertEquals("model", model.getString("object"));
        assertEquals(modelId(), model.getString("id"));
        assertTrue(model.containsKey("created") && model.containsKey("owned_by"));
    }

    @Test
    void greedyReplyEqualsTheSeedApisAndTheStreamConcatenatesToIt() {
        ChatCompletion completion = client().chat().completions().create(conversation().build());
        String content = completion.choices().get(0).message().content().orElse("");
        assertTrue(completion.id().startsWith("chatcmpl-"));
        assertEquals(modelId(), completion.model());
        long completionTokens = completion.usage().orElseThrow().completionTokens();
        assertEquals(completion.usage().orElseThrow().promptTokens() + completionTokens,
                completion.usage().orElseThrow().totalTokens());

        JsonObject seed = api.inferOk(Api.object("user_input", "I have been feeling low.", "conversation_history",
                jakarta.json.Json.createArrayBuilder()
                        .add(Api.object("role", "user", "content", "Hello"))
                        .add(Api.object("role", "assistant", "content", "Hi, how can I help?")),
                "temperature", 0, "max_new_tokens", 12, "use_cache", false).build());
        assertEquals(seed.getString("response"), content, "greedy: the same reply as the seed's API");
        ReadableText.assertWords(content);
        assertEquals(seed.getInt("tokens_generated"), completionTokens);

        StringBuilder streamed = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions()
                .createStreaming(conversation().build())) {
            stream.stream().forEach(chunk -> {
                chunks.add(chunk);
                chunk.choices().forEach(c -> c.delta().content().ifPresent(piece -> {
                    ReadableText.assertWholeCharacters(piece);
                    streamed.append(piece);
                }));
            });
        }
        assertEquals(content, streamed.toString(), "the concatenated stream equals the non-streamed reply");
        assertEquals(1, chunks.stream().map(ChatCompletionChunk::id).distinct().count(), "one id");
        assertEquals(1, chunks.stream().map(ChatCompletionChunk::created).distinct().count(), "one created");
        assertTrue(chunks.stream().allMatch(c -> c.usage().isEmpty()), "no usage without include_usage");
    }

    /**
     * A sampled, seeded conversation whose reply is long enough to cut in the middle: the first seed
     * from 0 that gives at least 6 characters.
     */
    private long seedWithText() {
        for (long seed = 0; seed < 40; seed++) {
            String content = client().chat().completions().create(conversation().temperature(1.0).seed(seed)
                    .maxCompletionTokens(24).build()).choices().get(0).message().content().orElse("");
            if (content.length() >= 6) {
                return seed;
            }
        }
        throw new AssertionError("no seed from 0 to 39 gave a reply with text");
    }

    @Test
    void aSeededSampledReplyEqualsTheSeedApisAndStreamsTheSame() {
        long seed = seedWithText();
        ChatCompletionCreateParams params = conversation().temperature(1.0).seed(seed).maxCompletionTokens(24).build();
        ChatCompletion completion = client().chat().completions().create(params);
        String content = completion.choices().get(0).message().content().orElse("");
        JsonObject seedApi = api.inferOk(Api.object("user_input", "I have been feeling low.", "conversation_history",
                jakarta.json.Json.createArrayBuilder()
                        .add(Api.object("role", "user", "content", "Hello"))
                        .add(Api.object("role", "assistant", "content", "Hi, how can I help?")),
                "temperature", 1.0, "seed", seed, "max_new_tokens", 24, "use_cache", false).build());
        assertEquals(seedApi.getString("response"), content, "the same sampled reply as the seed's API");
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(params)) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
        }
        assertEquals(content, streamed.toString());
    }

    @Test
    void includeUsageGivesExactlyOneUsageChunkBeforeDone() {
        ChatCompletionCreateParams params = conversation()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunks::add);
        }
        assertEquals(1, chunks.stream().filter(c -> c.usage().isPresent()).count());
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.usage().isPresent() && last.choices().isEmpty(), "the usage chunk is last, without choices");
    }

    @Test
    void rawFramingIsDataLinesThenDone() {
        String body = Api.object("model", modelId(), "messages", jakarta.json.Json.createArrayBuilder()
                .add(Api.object("role", "user", "content", "Frame this.")), "max_tokens", 6, "temperature", 0,
                "stream", true, "stream_options", Api.object("include_usage", true)).build().toString();
        Api.Reply reply = api.post(CHAT, body, Map.of("Authorization", "Bearer " + ServerFiles.apiKey()));
        assertEquals(200, reply.status(), reply::toString);
        assertTrue(reply.contentType().startsWith("text/event-stream"), reply::toString);
        assertTrue(reply.body().endsWith("data: [DONE]\n\n"), reply.body());
        String[] events = reply.body().split("\n\n");
        for (String event : events) {
            assertTrue(event.startsWith("data: ") && !event.contains("\n"), "one data line per event: " + event);
        }
        JsonObject first = Api.parse(events[0].substring(6));
        assertEquals("assistant", first.getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                .getString("role"));
        JsonObject finish = Api.parse(events[events.length - 3].substring(6));
        assertTrue(finish.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").isEmpty());
        assertTrue(List.of("stop", "length").contains(finish.getJsonArray("choices").getJsonObject(0)
                .getString("finish_reason")));
        JsonObject usage = Api.parse(events[events.length - 2].substring(6));
        assertTrue(usage.getJsonArray("choices").isEmpty() && usage.containsKey("usage"));
    }

    @Test
    void aStopStringEndsTheReplyAndIsNeverStreamed() {
        long seed = seedWithText();
        String free = client().chat().completions().create(conversation().temperature(1.0).seed(seed)
                .maxCompletionTokens(24).build()).choices().get(0).message().content().orElse("");
        String stop = free.substring(free.length() / 2, free.length() / 2 + 2);
        String expected = free.substring(0, free.indexOf(stop)).strip();
        ChatCompletion stopped = client().chat().completions().create(conversation().temperature(1.0).seed(seed)
                .maxCompletionTokens(24).stop(stop).build());
        assertEquals(expected, stopped.choices().get(0).message().content().orElse(""));
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, stopped.choices().get(0).finishReason());
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions()
                .createStreaming(conversation().temperature(1.0).seed(seed).maxCompletionTokens(24).stop(stop)
                        .build())) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
        }
        assertEquals(expected, streamed.toString(), "no piece of the stop string is streamed");
    }

    private static JsonObject error(Api.Reply reply) {
        assertTrue(reply.contentType().startsWith("application/json"), reply::toString);
        JsonObject body = jakarta.json.Json.createReader(new StringReader(reply.body())).readObject();
        JsonObject error = body.getJsonObject("error");
        assertTrue(error.containsKey("message") && error.containsKey("type") && error.containsKey("param")
                && error.containsKey("code"), reply::toString);
        return error;
    }

    @Test
    void everyErrorHasOpenAisShape() {
        Map<String, String> key = Map.of("Authorization", "Bearer " + ServerFiles.apiKey());
        String ok = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";
        Api.Reply badTemperature = api.post(CHAT, "{\"model\": \"" + modelId() + "\", " + ok
                + ", \"temperature\": 9}", key);
        assertEquals(400, badTemperature.status());
        assertEquals("temperature", error(badTemperature).getString("param"));
        assertEquals("invalid_request_error", error(badTemperature).getString("type"));

        Api.Reply tools = api.post(CHAT, "{\"model\": \"" + modelId() + "\", " + ok + ", \"tools\": [{\"type\": "
                + "\"function\", \"function\": {\"name\": \"f\"}}]}", key);
        assertEquals(400, tools.status());
        assertEquals("tools", error(tools).getString("param"));

        Api.Reply n = api.post(CHAT, "{\"model\": \"" + modelId() + "\", " + ok + ", \"n\": 2, \"stream\": true}",
                key);
        assertEquals(400, n.status(), "refused before a stream begins: " + n);
        assertEquals("n", error(n).getString("param"));

        Api.Reply model = api.post(CHAT, "{\"model\": \"no-such-model\", " + ok + "}", key);
        assertEquals(404, model.status());
        assertEquals("model_not_found", error(model).getString("code"));
        assertEquals("model", error(model).getString("param"));

        Api.Reply notJson = api.post(CHAT, "{\"model\": ", key);
        assertEquals(400, notJson.status());
        assertEquals("body", error(notJson).getString("param"));

        Api.Reply unauthorized = new Api(api.base()).post(CHAT, "{\"model\": \"x\", " + ok + "}",
                Map.of("Authorization", "Bearer wrong"));
        assertEquals(401, unauthorized.status());
        assertEquals("authentication_error", error(unauthorized).getString("type"));
        assertTrue(unauthorized.header("WWW-Authenticate").orElse("").startsWith("Bearer"));
        Api.Reply modelsUnauthorized = new Api(api.base()).get("v1/models", "application/json", Map.of());
        assertEquals(401, modelsUnauthorized.status());
        error(modelsUnauthorized);

        Api.Reply unknownPath = api.get("v1/nothing-here", "application/json", key);
        assertEquals(404, unknownPath.status());
        error(unknownPath);
    }

    @ParameterizedTest(name = "{0}, stream {1}")
    @CsvSource({"text/plain, false", "text/plain, true", "application/xml, true", "garbage, false", "*/*, true",
            "application/x-www-form-urlencoded, false"})
    void aBodyThatIsNotJsonIs415InOpenAisShape(String contentType, boolean stream) {
        byte[] body = ("{\"model\": \"" + modelId() + "\", \"messages\": [{\"role\": \"user\", \"content\": "
                + "\"hi\"}], \"max_tokens\": 4, \"stream\": " + stream + "}").getBytes(StandardCharsets.UTF_8);
        Api.Reply reply = api.postBytes(CHAT, contentType, body, Map.of());
        assertEquals(415, reply.status(), reply::toString);
        JsonObject error = error(reply);
        assertEquals("Content-Type", error.getString("param"));
        assertEquals("invalid_request_error", error.getString("type"));
        assertEquals("unsupported_media_type", error.getString("code"));
        assertEquals(200, api.post(CHAT, new String(body, StandardCharsets.UTF_8)).status(),
                "the same body as JSON is served");
    }

    @Test
    void everyOtherRefusalHasOpenAisShapeToo() {
        Api.Reply get = api.get(CHAT, "application/json", api.keyHeader());
        assertEquals(405, get.status(), get::toString);
        assertEquals("invalid_request_error", error(get).getString("type"));

        Api.Reply noSuchModel = api.get("v1/models/gpt-4o", "application/json", api.keyHeader());
        assertEquals(404, noSuchModel.status(), noSuchModel::toString);
        assertEquals("model_not_found", error(noSuchModel).getString("code"));
        assertEquals("model", error(noSuchModel).getString("param"));
        Api.Reply served = api.get("v1/models/" + modelId(), "application/json", api.keyHeader());
        assertEquals(200, served.status(), served::toString);
        assertEquals(modelId(), served.json().getString("id"));

        String big = "x".repeat(300_000); // over limits.body-bytes (262144): refused before it is parsed
        for (boolean stream : new boolean[] {false, true}) {
            Api.Reply tooBig = api.post(CHAT, "{\"model\": \"" + modelId() + "\", \"stream\": " + stream
                    + ", \"messages\": [{\"role\": \"user\", \"content\": \"" + big + "\"}]}");
            assertEquals(400, tooBig.status(), tooBig::toString);
            assertEquals("body", error(tooBig).getString("param"));
        }

        Api.Reply longPrompt = api.post(CHAT, Api.object("model", modelId(), "messages", jakarta.json.Json
                .createArrayBuilder().add(Api.object("role", "user", "content", "hi ".repeat(1300))),
                "max_tokens", 1024).build().toString());
        assertEquals(400, longPrompt.status(), longPrompt::toString);
        assertEquals("messages", error(longPrompt).getString("param"));
        assertEquals("context_length_exceeded", error(longPrompt).getString("code"));
    }

    @Test
    void theSdkSeesTheErrorsAsItsOwnExceptions() {
        assertThrows(UnauthorizedException.class, () -> client("wrong").models().list());
        NotFoundException notFound = assertThrows(NotFoundException.class, () -> client().chat().completions()
                .create(ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("hi").build()));
        assertEquals(404, notFound.statusCode());
        OpenAIServiceException bad = assertThrows(OpenAIServiceException.class, () -> client().chat().completions()
                .create(conversation().n(3).build()));
        assertEquals(400, bad.statusCode());
        assertFalse(client().chat().completions().create(conversation().build()).choices().isEmpty(),
                "and the service goes on serving");
    }
}
