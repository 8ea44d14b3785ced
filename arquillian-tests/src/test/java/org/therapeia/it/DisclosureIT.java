package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The AI disclosure ({@code safety.disclosure.text}, as the New York, California and Utah
 * companion-chatbot laws require) comes first on a conversation's first reply, on both APIs and
 * in the seed's stream, and never on a later turn. A node of the test's own: on the shared server
 * the disclosure would change every other test's first replies.
 */
@Order(9)
class DisclosureIT {

    private static final String DISCLOSURE = "You are talking with an AI, not a person.";
    private static final Duration READY_LIMIT = Duration.ofMinutes(3);

    @Test
    void theDisclosureComesOnAConversationsFirstReplyOnly() throws Exception {
        Path dir = ServerFiles.path("therapeia.it.dir").resolve("disclosure");
        ServerFiles.deleteTree(dir);
        try (PayaraMicroNode node = PayaraMicroNode.start("disclosure", dir, List.of(
                "-Dmodel.path=" + ServerFiles.model(), "-Dsafety.disclosure.text=" + DISCLOSURE))) {
            node.await("health/ready", r -> r.status() == 200, READY_LIMIT);

            // the seed API: first reply, then a later turn of the same conversation
            JsonObject first = node.api.inferOk(Api.object("user_input", "Hello, I would like to talk.",
                    "use_cache", false, "temperature", 0.0, "max_new_tokens", 8).build());
            assertTrue(first.getString("response").startsWith(DISCLOSURE + "\n\n"), first::toString);
            JsonObject later = node.api.inferOk(Api.object("user_input", "I slept badly again.",
                    "use_cache", false, "temperature", 0.0, "max_new_tokens", 8,
                    "conversation_history", Json.createArrayBuilder()
                            .add(Json.createObjectBuilder().add("role", "user").add("content", "Hello."))
                            .add(Json.createObjectBuilder().add("role", "assistant").add("content", "Hello, welcome.")))
                    .build());
            assertFalse(later.getString("response").contains(DISCLOSURE), later::toString);

            // the seed's stream: the disclosure is the first piece
            HttpRequest stream = HttpRequest.newBuilder(node.api.base().resolve("api/v1/inference/stream"))
                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                    .header("Accept", "text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(Api.object("user_input", "Hello there.",
                            "use_cache", false, "max_new_tokens", 8).build().toString(), StandardCharsets.UTF_8))
                    .build();
            HttpResponse<String> streamed = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(stream, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, streamed.statusCode(), streamed::body);
            String body = streamed.body().replace("event: ", "event:");
            int firstToken = body.indexOf("event:token");
            assertTrue(firstToken >= 0, body);
            assertTrue(body.substring(firstToken, body.indexOf("\n\n", firstToken)).contains(DISCLOSURE), body);

            // the OpenAI API: a first user turn (after a system message), then a later one
            String model = node.api.get("v1/models", "application/json").json().getJsonArray("data")
                    .getJsonObject(0).getString("id");
            Api.Reply openAiFirst = node.api.post("v1/chat/completions", Json.createObjectBuilder()
                    .add("model", model).add("max_tokens", 8).add("temperature", 0)
                    .add("messages", Json.createArrayBuilder()
                            .add(Json.createObjectBuilder().add("role", "system").add("content", "Be kind."))
                            .add(Json.createObjectBuilder().add("role", "user").add("content", "Hi.")))
                    .build().toString());
            assertEquals(200, openAiFirst.status(), openAiFirst::toString);
            assertTrue(content(openAiFirst).startsWith(DISCLOSURE + "\n\n"), openAiFirst::toString);
            Api.Reply openAiLater = node.api.post("v1/chat/completions", Json.createObjectBuilder()
                    .add("model", model).add("max_tokens", 8).add("temperature", 0)
                    .add("messages", Json.createArrayBuilder()
                            .add(Json.createObjectBuilder().add("role", "user").add("content", "Hi."))
                            .add(Json.createObjectBuilder().add("role", "assistant").add("content", "Hello."))
                            .add(Json.createObjectBuilder().add("role", "user").add("content", "I feel low.")))
                    .build().toString());
            assertEquals(200, openAiLater.status(), openAiLater::toString);
            assertFalse(content(openAiLater).contains(DISCLOSURE), openAiLater::toString);
        }
    }

    private static String content(Api.Reply reply) {
        return reply.json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    }
}
