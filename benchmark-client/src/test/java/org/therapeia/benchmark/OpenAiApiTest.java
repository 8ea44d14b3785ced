package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The OpenAI API's request body and reply, as the client sends and reads them. */
class OpenAiApiTest {

    private static final RequestInput INPUT = new RequestInput(3, 1, "I can't sleep \"at all\".",
            List.of(ChatTurn.user("Hi"), ChatTurn.assistant("Hello. What's on your mind?")));

    private static JsonObject json(String text) {
        return Json.createReader(new StringReader(text)).readObject();
    }

    @Test
    void theConversationIsTheMessagesEndingWithTheUsersTurn() {
        OpenAiApi api = new OpenAiApi("therapist", 7);
        JsonObject body = json(api.requestBody(INPUT, true, 48, false));
        assertEquals("therapist", body.getString("model"));
        JsonArray messages = body.getJsonArray("messages");
        assertEquals(List.of("user", "assistant", "user"), messages.stream()
                .map(m -> m.asJsonObject().getString("role")).toList());
        assertEquals("I can't sleep \"at all\".", messages.getJsonObject(2).getString("content"));
        assertEquals(48, body.getInt("max_completion_tokens"));
        assertFalse(body.containsKey("seed"), "with the cache on, the service may answer from it");
        assertFalse(body.containsKey("stream"));
        assertFalse(body.containsKey("use_cache"), "not an OpenAI field");

        JsonObject defaults = json(api.requestBody(INPUT, true, null, false));
        assertFalse(defaults.containsKey("max_completion_tokens"));
        assertEquals("Authorization", api.apiKeyHeader());
        assertEquals("Bearer k", api.apiKeyValue("k"));
        assertEquals("v1/chat/completions", api.path(true));
    }

    @Test
    void withTheCacheOffEachRequestHasASeedOfItsOwn() {
        OpenAiApi api = new OpenAiApi("m", 42);
        assertEquals(42, json(api.requestBody(INPUT, false, null, false)).getJsonNumber("seed").longValue());
        assertEquals(43, json(api.requestBody(INPUT, false, null, false)).getJsonNumber("seed").longValue());
        assertEquals(44, json(api.requestBody(INPUT, false, null, true)).getJsonNumber("seed").longValue());
    }

    @Test
    void aStreamedRequestAsksForTheUsage() {
        JsonObject body = json(new OpenAiApi("m", 0).requestBody(INPUT, true, null, true));
        assertTrue(body.getBoolean("stream"));
        assertTrue(body.getJsonObject("stream_options").getBoolean("include_usage"));
    }

    @Test
    void readsTheCompletionTokens() {
        RequestOutcome o = new OpenAiApi("m", 0).readReply("""
                {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,
                 "message":{"role":"assistant","content":"That sounds hard."},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":40,"completion_tokens":17,"total_tokens":57}}""", 300_000_000L);
        assertTrue(o.success());
        assertEquals(17, o.tokensGenerated());
        assertEquals(300_000_000L, o.latencyNanos());
    }

    @Test
    void aConversationTurnOpensWithItsSystemMessage() {
        RequestInput turn = new RequestInput(0, 2, "Hello", List.of(ChatTurn.user("Hi"), ChatTurn.assistant("Hey")),
                "Be kind.", 0.0);
        JsonObject body = json(new OpenAiApi("m", 0).requestBody(turn, false, null, false));
        JsonArray messages = body.getJsonArray("messages");
        assertEquals(List.of("system", "user", "assistant", "user"), messages.stream()
                .map(m -> m.asJsonObject().getString("role")).toList());
        assertEquals("Be kind.", messages.getJsonObject(0).getString("content"));
        assertEquals(0.0, body.getJsonNumber("temperature").doubleValue());
        assertFalse(json(new OpenAiApi("m", 0).requestBody(INPUT, true, null, false)).containsKey("temperature"));
    }

    @Test
    void readsTheReplyAndTheCachedPromptTokens() {
        RequestOutcome o = new OpenAiApi("m", 0).readReply("""
                {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,
                 "message":{"role":"assistant","content":"That sounds hard."},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":240,"completion_tokens":17,"total_tokens":257,
                 "prompt_tokens_details":{"cached_tokens":200}}}""", 1);
        assertEquals("That sounds hard.", o.reply());
        assertEquals(240, o.promptTokens());
        assertEquals(200, o.reusedTokens());
        assertEquals(0, o.serverFirstToken(), "OpenAI's reply has no engine times");

        RequestOutcome noDetails = new OpenAiApi("m", 0).readReply("""
                {"choices":[{"message":{"role":"assistant","content":"x"}}],
                 "usage":{"prompt_tokens":40,"completion_tokens":1}}""", 1);
        assertEquals(40, noDetails.promptTokens());
        assertEquals(0, noDetails.reusedTokens(), "no details: nothing cached");
    }

    @Test
    void aTwoHundredWithoutTheContractIsAnError() {
        for (String body : List.of("", "[]", "{}", "{\"choices\":[],\"usage\":{\"completion_tokens\":1}}",
                "{\"choices\":[{\"message\":{\"content\":\"x\"}}]}",
                "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"completion_tokens\":\"1\"}}",
                "{\"error\":{\"message\":\"x\",\"type\":\"server_error\",\"param\":null,\"code\":null}}")) {
            RequestOutcome o = new OpenAiApi("m", 0).readReply(body, 1);
            assertFalse(o.success(), body);
            assertEquals(RequestOutcome.INVALID_RESPONSE, o.errorKey(), body);
        }
    }
}
