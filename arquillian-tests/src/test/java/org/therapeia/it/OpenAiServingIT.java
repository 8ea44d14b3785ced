package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The OpenAI-compatible API on a node of its own, configured as the shared server cannot be: no
 * API key (the SDK and plain requests pass without one), two model aliases, a model folder whose
 * generation_config.json asks for greedy decoding without a repetition penalty, one engine slot and
 * a queue of one (so that a third request finds it full), and no drain on SIGTERM (so that the
 * generations in flight fail after their streams began). The last test stops the node.
 */
@Order(11)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiServingIT {

    private static final Duration READY_LIMIT = Duration.ofMinutes(3);
    private static final String CHAT = "v1/chat/completions";
    /** The model folder's name: the served model's id. */
    private static final String MODEL = "openai-model";
    /** Long enough that a greedy generation (which loops, on the random model) outlasts what the tests do meanwhile. */
    private static final int LONG = 2000;

    private static PayaraMicroNode node;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() throws IOException {
        Path dir = Files.createDirectories(ServerFiles.path("therapeia.it.dir").resolve("openai-serving"));
        Path model = dir.resolve(MODEL);
        ServerFiles.deleteTree(model);
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(ServerFiles.model())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, model.resolve(file.getFileName()));
            }
        }
        // what the model's authors tuned it for: greedy, no repetition penalty (the service's configuration: 0.7, 1.1)
        Path generationConfig = model.resolve("generation_config.json");
        JsonObject tuned = Json.createObjectBuilder(Api.parse(Files.readString(generationConfig)))
                .add("temperature", 0.0).add("repetition_penalty", 1.0).build();
        Files.writeString(generationConfig, tuned.toString());

        node = PayaraMicroNode.start("openai-serving", dir, List.of("-Dmodel.path=" + model,
                "-Dmodel.aliases=gpt-4o-mini,therapist", "-Dbatch_size=1", "-Dqueue.capacity=1",
                "-Dlimits.max-new-tokens=" + LONG, "-Dshutdown.drain-seconds=0"));
        node.await("health/ready", r -> r.status() == 200, READY_LIMIT);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static JsonObjectBuilder chat(String model, String message, int maxTokens) {
        return Api.object("model", model, "messages", Json.createArrayBuilder()
                .add(Api.object("role", "user", "content", message)), "max_tokens", maxTokens);
    }

    private static Api.Reply post(JsonObjectBuilder body) {
        return node.api.post(CHAT, body.build().toString());
    }

    /** The error object of an OpenAI error response, after checking its shape. */
    private static JsonObject error(Api.Reply reply) {
        assertTrue(reply.contentType().startsWith("application/json"), reply::toString);
        JsonObject error = reply.json().getJsonObject("error");
        for (String field : new String[] {"message", "type", "param", "code"}) {
            assertTrue(error.containsKey(field), () -> field + " in " + reply);
        }
        return error;
    }

    /** A greedy generation that runs to its token limit: it holds the engine's one slot all that while. */
    private static JsonObjectBuilder longGeneration(int n) {
        return chat(MODEL, "Please keep talking for a long while. " + n, LONG).add("temperature", 0).add("seed", n);
    }

    /** Waits until a generation holds the engine's slot and, with {@code queued}, one more waits. */
    private static void awaitBusy(boolean queued) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, Double> m = node.api.prometheus();
        while (!(Api.sample(m, "therapeia_running_sequences") >= 1
                && (!queued || Api.sample(m, "therapeia_queue_depth") >= 1))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the engine never filled: " + m);
            }
            Api.sleep(20);
            m = node.api.prometheus();
        }
    }

    @Test
    @Order(1)
    void theModelsGenerationConfigDecidesWhatARequestLeavesOutAndTheSeedApiKeepsItsDefaults() {
        Api.Reply openAi = post(chat(MODEL, "Tell me about your day.", 16).add("seed", 5));
        assertEquals(200, openAi.status(), openAi::toString);
        JsonObject choice = openAi.json().getJsonArray("choices").getJsonObject(0);
        JsonObject greedy = node.api.inferOk(Api.object("user_input", "Tell me about your day.", "temperature", 0,
                "repetition_penalty", 1.0, "max_new_tokens", 16, "use_cache", false).build());
        assertEquals(greedy.getString("response"), choice.getJsonObject("message").getString("content"),
                "no temperature, no repetition_penalty: the model's greedy, unpenalised decoding");
        assertEquals(greedy.getInt("tokens_generated"),
                openAi.json().getJsonObject("usage").getInt("completion_tokens"));

        JsonObject seedDefaults = node.api.inferOk(Api.object("user_input", "Tell me about your day.", "seed", 5,
                "max_new_tokens", 16, "use_cache", false).build());
        JsonObject configured = node.api.inferOk(Api.object("user_input", "Tell me about your day.", "seed", 5,
                "temperature", 0.7, "top_p", 0.9, "top_k", 50, "repetition_penalty", 1.1, "max_new_tokens", 16,
                "use_cache", false).build());
        assertEquals(configured.getString("response"), seedDefaults.getString("response"),
                "the seed's API: the service configuration's defaults, whatever the model's file says");
    }

    @Test
    @Order(2)
    void aliasesNameTheServedModelAndTheApiIsOpenWithoutAKey() {
        Api.Reply models = node.api.get("v1/models", "application/json");
        assertEquals(200, models.status(), models::toString);
        assertEquals(List.of(MODEL, "gpt-4o-mini", "therapist"), models.json().getJsonArray("data").stream()
                .map(m -> m.asJsonObject().getString("id")).toList());
        Api.Reply one = node.api.get("v1/models/therapist", "application/json");
        assertEquals(200, one.status(), one::toString);
        assertEquals("therapist", one.json().getString("id"));
        assertEquals("model", one.json().getString("object"));
        Api.Reply none = node.api.get("v1/models/gpt-4", "application/json");
        assertEquals(404, none.status(), none::toString);
        assertEquals("model_not_found", error(none).getString("code"));

        // the official SDK, sending a key the service does not ask for, and naming the model by an alias
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(node.api.base().resolve("v1").toString())
                .apiKey("not-needed").maxRetries(0).build();
        ChatCompletion completion = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("gpt-4o-mini").addUserMessage("Hello").maxCompletionTokens(4).build());
        assertEquals(MODEL, completion.model(), "replies name the served model");
        Api.Reply aliased = post(chat("therapist", "Hello", 4));
        assertEquals(200, aliased.status(), aliased::toString);
        Api.Reply other = post(chat("gpt-4o", "Hello", 4));
        assertEquals(404, other.status(), other::toString);
        assertEquals("model", error(other).getString("param"));
        assertTrue(error(other).getString("message").contains("therapist"), "it names what it serves");
    }

    @Test
    @Order(3)
    void aFullQueueIs503WithRetryAfterInOpenAisShapeForPlainAndStreamedRequests() throws Exception {
        CompletableFuture<Api.Reply> running = node.api.postAsync(CHAT, longGeneration(1).build().toString());
        awaitBusy(false);
        CompletableFuture<Api.Reply> waiting = node.api.postAsync(CHAT, longGeneration(2).build().toString());
        awaitBusy(true);

        Api.Reply plain = post(chat(MODEL, "Anyone there?", 4));
        Api.Reply streamed = post(chat(MODEL, "Anyone there?", 4).add("stream", true));
        for (Api.Reply full : List.of(plain, streamed)) {
            assertEquals(503, full.status(), full::toString);
            assertTrue(full.header("Retry-After").isPresent(), full::toString);
            JsonObject error = error(full);
            assertEquals("queue_full", error.getString("code"));
            assertEquals("service_unavailable_error", error.getString("type"));
            assertEquals(JsonValue.NULL, error.get("param"));
        }
        for (CompletableFuture<Api.Reply> f : List.of(running, waiting)) {
            Api.Reply done = f.get(5, TimeUnit.MINUTES);
            assertEquals(200, done.status(), done::toString);
            assertEquals("length", done.json().getJsonArray("choices").getJsonObject(0).getString("finish_reason"),
                    "a long generation runs to its limit, holding the slot: else this test proves nothing");
        }
    }

    @Test
    @Order(4)
    void anErrorAfterTheStreamBeganIsOneErrorEventThenDoneAndAPlainReplyIsOpenAisErrorBody() throws Exception {
        CompletableFuture<Api.Reply> plain = node.api.postAsync(CHAT, longGeneration(3).build().toString());
        awaitBusy(false);
        HttpRequest request = HttpRequest.newBuilder(node.api.base().resolve(CHAT)).timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(longGeneration(4).add("stream", true).build().toString(),
                        StandardCharsets.UTF_8)).build();
        HttpResponse<Stream<String>> stream = HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, stream.statusCode());
        List<String> events = new ArrayList<>();
        Iterator<String> lines = stream.body().iterator();
        String first = lines.next();
        events.add(first);
        assertTrue(first.startsWith("data: ") && first.contains("\"role\":\"assistant\""), first);

        // the stream has begun (its request waits behind the plain one): stop the node, with no drain
        assertTrue(node.terminate(Duration.ofSeconds(60)).isPresent(), "the node stopped");
        lines.forEachRemaining(line -> {
            if (!line.isEmpty()) {
                events.add(line);
            }
        });
        assertTrue(events.size() >= 3, events::toString);
        assertEquals("data: [DONE]", events.get(events.size() - 1), "the stream still ends with [DONE]");
        JsonObject error = Api.parse(events.get(events.size() - 2).substring("data: ".length()))
                .getJsonObject("error");
        assertEquals("shutting_down", error.getString("code"), events::toString);
        assertEquals("service_unavailable_error", error.getString("type"));
        assertTrue(error.containsKey("message") && error.containsKey("param"), error::toString);
        for (String event : events.subList(0, events.size() - 2)) {
            JsonObject chunk = Api.parse(event.substring("data: ".length()));
            assertEquals("chat.completion.chunk", chunk.getString("object"), event);
            assertTrue(chunk.getJsonArray("choices").getJsonObject(0).isNull("finish_reason"),
                    "no finish chunk before the error: " + event);
        }

        Api.Reply stopped = plain.get(1, TimeUnit.MINUTES);
        assertEquals(503, stopped.status(), stopped::toString);
        assertTrue(stopped.header("Retry-After").isPresent(), stopped::toString);
        assertEquals("shutting_down", error(stopped).getString("code"),
                "a failure after arrival, answered on another thread, still in OpenAI's shape");
        assertFalse(node.log().contains("A fatal error has been detected"), "no JVM crash");
    }
}
