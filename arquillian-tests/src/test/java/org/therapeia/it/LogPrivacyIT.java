package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * No user or model text in any log line: a unique marker goes through every path a request can
 * take (generation, cache write and hit, every kind of refusal), then the server's log file and
 * its whole console output are searched for it, and for the replies the model wrote.
 */
@Order(6)
class LogPrivacyIT extends RunningService {

    @Test
    void noUserOrModelTextInTheServerOutput() {
        String marker = "zqmarker" + UUID.randomUUID().toString().replace("-", "");
        List<String> replies = new ArrayList<>();

        var history = Json.createArrayBuilder()
                .add(Json.createObjectBuilder().add("role", "user").add("content", "history " + marker))
                .add(Json.createObjectBuilder().add("role", "assistant").add("content", "answer " + marker));
        JsonObject request = Api.object("user_input", "I feel " + marker, "system_prompt", "Be kind " + marker,
                "conversation_history", history, "use_cache", true, "max_new_tokens", 64).build();
        JsonObject miss = api.inferOk(request);
        JsonObject hit = api.inferOk(request);
        assertTrue(hit.getBoolean("cache_hit"), "the cache path ran too");
        replies.add(miss.getString("response"));
        replies.add(api.inferOk(Api.object("user_input", "Sampled " + marker, "use_cache", false, "temperature", 1.0,
                "seed", 7L, "max_new_tokens", 64).build()).getString("response"));

        // refusals that carry the marker in the field at fault
        String[] bad = {
            "{\"user_input\": \"" + marker + "\", \"conversation_history\": [{\"role\": \"" + marker
                    + "\", \"content\": \"x\"}]}",
            "{\"user_input\": \"" + marker.repeat(200) + "\"}",
            "{\"user_input\": \"" + marker + "\", \"temperature\": \"" + marker + "\"}",
            "{\"user_input\": \"" + marker + "\", ",
            "{\"user_input\": \"" + marker + "\", \"padding\": \"" + marker.repeat(8000) + "\"}",
            "{\"user_input\": \"" + marker + "\", \"max_new_tokens\": 1000000}",
        };
        for (String body : bad) {
            Api.Reply reply = api.post(Api.INFERENCE, body);
            assertEquals(400, reply.status(), reply::toString);
            assertFalse(reply.body().contains(marker), "a problem body does not echo the input: " + reply);
        }
        // a prompt the context cannot hold (the default model's context is 2048 tokens)
        Api.Reply tooLong = api.post(Api.INFERENCE, Api.object("user_input", (marker + " ").repeat(97),
                "max_new_tokens", 1024).build().toString());
        assertEquals(400, tooLong.status(), tooLong::toString);
        assertFalse(tooLong.body().contains(marker), tooLong::toString);
        // a wrong admin token is a secret the caller sent
        assertEquals(401, api.post(Api.CACHE_CLEAR, "", Map.of("X-Admin-Token", marker)).status());

        ServerLogs.settle(10_000);
        String all = ServerLogs.all();
        assertTrue(all.contains(TestTarget.current().product) && all.contains("ModelRuntime"),
                "the search looks at the server's real output: " + ServerLogs.files());
        for (Path file : ServerLogs.files()) {
            String text = ServerLogs.read(file);
            assertFalse(text.contains(marker), "user text in " + file);
            for (String reply : replies) {
                if (reply.length() >= 24) {
                    assertFalse(text.contains(reply), "model text in " + file);
                }
            }
        }
        assertTrue(replies.stream().anyMatch(r -> r.length() >= 24), "some reply was long enough to search for");
    }
}
