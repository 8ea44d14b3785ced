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
import java.util.List;
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
 * The OpenAI-compatible API on two nodes of its own, configured as the shared server cannot be.
 * The first has no API key (the SDK and plain requests pass without one), two model aliases, a
 * model folder whose generation_config.json asks for greedy decoding without a repetition penalty,
 * and one engine slot with a queue of one (so that a burst of requests finds it full). The second
 * has a {@code request.timeout} of 0.1 s, far below what a generation of {@value #LONG} tokens
 * takes (the model decodes a few thousand tokens a second here), so that such a generation fails
 * after its stream began, and after its plain request's arrival. The model folder is a copy of the
 * random-weight model ({@link ServerFiles#randomModel()}): its greedy generations run to their
 * token limit, where the trained default model's replies end after a few dozen tokens.
 */
@Order(11)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiServingIT {

    private static final Duration READY_LIMIT = Duration.ofMinutes(3);
    private static final String CHAT = "v1/chat/completions";
    /** The model folder's name: the served model's id. */
    private static final String MODEL = "openai-model";
    /** A greedy generation this long (it loops, on the random model) outlasts what the tests do meanwhile. */
    private static final int LONG = 1800;

    private static PayaraMicroNode node;
    private static PayaraMicroNode hurried;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() throws IOException {
        Path dir = Files.createDirectories(ServerFiles.path("therapeia.it.dir").resolve("openai-serving"));
        Path model = dir.resolve(MODEL);
        ServerFiles.deleteTree(model);
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(ServerFiles.randomModel())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, model.resolve(file.getFileName()));
            }
        }
        // what the model's authors tuned it for: greedy, no repetition penalty (the service's configuration: 0.7, 1.1)
        Path generationConfig = model.resolve("generation_config.json");
        JsonObject tuned = Json.createObjectBuilder(Api.parse(Files.readString(generationConfig)))
                .add("temperature", 0.0).add("repetition_penalty", 1.0).build();
        Files.writeString(generationConfig, tuned.toString());

        // started together, awaited together: the two start in the time of one and a half
        node = PayaraMicroNode.start("openai-serving", dir, List.of("-Dmodel.path=" + model,
                "-Dmodel.aliases=gpt-4o-mini,therapist", "-Dbatch_size=1", "-Dqueue.capacity=1",
                "-Dlimits.max-new-tokens=" + LONG));
        hurried = PayaraMicroNode.start("openai-hurried", dir, List.of("-Dmodel.path=" + model,
                "-Drequest.timeout=0.1", "-Dlimits.max-new-tokens=" + LONG));
        node.await("health/ready", r -> r.status() == 200, READY_LIMIT);
        hurried.await("health/ready", r -> r.status() == 200, READY_LIMIT);
    }

    @AfterAll
    static void stop() {
        for (PayaraMicroNode n : new PayaraMicroNode[] {node, hurried}) {
            if (n != null) {
                n.close();
            }
        }
    }

    private static JsonObjectBuilder chat(String model, String message, int maxTokens) {
        return Api.object("model", model, "messages", Json.createArrayBuilder()
                .add(Api.object("role", "user", "content", message)), "max_tokens", maxTokens);
    }

    private static Api.Reply post(JsonObjectBuilder body) {
        return node.api.post(CHAT, body.build().toString());
    }

    /** How a request ended: its status, headers and body lines (the non-empty ones: a stream's events). */
    private record Outcome(int status, java.net.http.HttpHeaders headers, List<String> lines) {

        boolean streamed() {
            return headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream");
        }

        /** The body of a plain reply as a JSON object. */
        JsonObject json() {
            return Api.parse(String.join("\n", lines));
        }

        /** The JSON of a stream's events (all but [DONE]). */
        List<JsonObject> events() {
            return lines.stream().filter(l -> !l.equals("data: [DONE]"))
                    .map(l -> Api.parse(l.substring("data: ".length()))).toList();
        }
    }

    /** Sends {@code body} to {@code to} and reads the answer to its end. */
    private static CompletableFuture<Outcome> send(PayaraMicroNode to, JsonObjectBuilder body) {
        HttpRequest request = HttpRequest.newBuilder(to.api.base().resolve(CHAT)).timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.build().toString(), StandardCharsets.UTF_8)).build();
        return HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofLines())
                .thenApply(r -> new Outcome(r.statusCode(), r.headers(), r.body().filter(l -> !l.isEmpty()).toList()));
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
        // one engine slot and a queue of one: of a burst, two are taken and the rest refused
        List<CompletableFuture<Outcome>> burst = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            burst.add(send(node, longGeneration(i).add("stream", i % 2 == 1)));
        }
        int taken = 0;
        int refusedPlain = 0;
        int refusedStreamed = 0;
        for (int i = 0; i < burst.size(); i++) {
            Outcome o = burst.get(i).get(5, TimeUnit.MINUTES);
            if (o.status() == 200) {
                taken++;
                String finish = o.streamed()
                        ? o.events().get(o.events().size() - 1).getJsonArray("choices").getJsonObject(0)
                                .getString("finish_reason")
                        : o.json().getJsonArray("choices").getJsonObject(0).getString("finish_reason");
                assertEquals("length", finish, "a generation taken runs to its limit, holding its place meanwhile: "
                        + "else the burst need not have found the queue full");
                continue;
            }
            assertEquals(503, o.status(), o::toString);
            assertFalse(o.streamed(), "refused before a stream begins: a plain error response");
            assertTrue(o.headers().firstValue("Retry-After").isPresent(), o::toString);
            JsonObject error = o.json().getJsonObject("error");
            assertEquals("queue_full", error.getString("code"), o::toString);
            assertEquals("service_unavailable_error", error.getString("type"));
            assertEquals(JsonValue.NULL, error.get("param"));
            assertTrue(error.containsKey("message"));
            if (i % 2 == 1) {
                refusedStreamed++;
            } else {
                refusedPlain++;
            }
        }
        assertTrue(taken <= 2, "one running and one waiting at most: " + taken);
        assertTrue(refusedPlain > 0 && refusedStreamed > 0, "plain " + refusedPlain + ", streamed " + refusedStreamed);
    }

    @Test
    @Order(4)
    void anErrorAfterTheStreamBeganIsOneErrorEventThenDone() throws Exception {
        Outcome o = send(hurried, longGeneration(20).add("stream", true)).get(2, TimeUnit.MINUTES);
        assertEquals(200, o.status(), o::toString);
        assertTrue(o.streamed(), o::toString);
        List<String> lines = o.lines();
        assertEquals("data: [DONE]", lines.get(lines.size() - 1), "the stream still ends with [DONE]: " + lines);
        List<JsonObject> events = o.events();
        assertEquals("assistant", events.get(0).getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                .getString("role"), "the stream had begun: " + lines);
        JsonObject error = events.get(events.size() - 1).getJsonObject("error");
        assertEquals("timeout", error.getString("code"), lines::toString);
        assertEquals("timeout_error", error.getString("type"));
        assertTrue(error.containsKey("message") && error.containsKey("param"), error::toString);
        for (JsonObject chunk : events.subList(0, events.size() - 1)) {
            assertEquals("chat.completion.chunk", chunk.getString("object"), chunk::toString);
            assertTrue(chunk.getJsonArray("choices").getJsonObject(0).isNull("finish_reason"),
                    "no finish chunk before the error: " + chunk);
        }
        assertTrue(lines.stream().allMatch(l -> l.startsWith("data: ")), "data lines only: " + lines);
    }

    @Test
    @Order(5)
    void aPlainRequestThatFailsAfterItsArrivalIsAnsweredInOpenAisShape() throws Exception {
        Outcome o = send(hurried, longGeneration(21)).get(2, TimeUnit.MINUTES);
        assertEquals(504, o.status(), o::toString);
        assertTrue(o.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), o::toString);
        JsonObject error = o.json().getJsonObject("error");
        assertEquals("timeout", error.getString("code"),
                "answered on the generation's thread, where the request's path is out of reach: " + o);
        assertEquals("timeout_error", error.getString("type"));
        assertEquals(JsonValue.NULL, error.get("param"));
        assertFalse(hurried.log().contains("A fatal error has been detected"), "no JVM crash");
    }
}
