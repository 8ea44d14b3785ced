package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The seed API's request body and reply, as the client sends and reads them. */
class SeedApiTest {

    private final SeedApi api = new SeedApi();


    @Test
    void requestBodyFollowsTheContract() {
        RequestInput input = new RequestInput(3, 1, "I can't sleep \"at all\".",
                List.of(ChatTurn.user("Hi"), ChatTurn.assistant("Hello. What's on your mind?")));
        JsonObject body = Json.createReader(new StringReader(api.requestBody(input, false, 48, false)))
                .readObject();
        assertEquals("I can't sleep \"at all\".", body.getString("user_input"));
        assertFalse(body.getBoolean("use_cache"));
        assertEquals(48, body.getInt("max_new_tokens"));
        assertEquals(2, body.getJsonArray("conversation_history").size());
        assertEquals("assistant", body.getJsonArray("conversation_history").getJsonObject(1).getString("role"));

        JsonObject noOverride = Json.createReader(new StringReader(
                api.requestBody(input, true, null, false))).readObject();
        assertFalse(noOverride.containsKey("max_new_tokens"));
        assertTrue(noOverride.getBoolean("use_cache"));
    }

    @Test
    void readsTheResponseFields() {
        RequestOutcome o = api.readReply("""
                {"response":"That sounds hard.","latency":0.25,"cache_hit":false,"tokens_generated":17,
                 "metadata":{"generation_time":0.2,"input_tokens":40,"queue_time":0.015,"finish_reason":"stop"}}""",
                300_000_000L);
        assertTrue(o.success());
        assertFalse(o.cacheHit());
        assertEquals(17, o.tokensGenerated());
        assertEquals(0.25, o.serverLatency());
        assertEquals(0.2, o.generationTime());
        assertEquals(0.015, o.queueTime());
        assertEquals(300_000_000L, o.latencyNanos());
    }

    @Test
    void aConversationTurnSendsItsSystemPromptAndTemperature() {
        RequestInput turn = new RequestInput(0, 2, "Hello", List.of(), "Be kind.", 0.0);
        JsonObject body = Json.createReader(new StringReader(api.requestBody(turn, false, null, false))).readObject();
        assertEquals("Be kind.", body.getString("system_prompt"));
        assertEquals(0.0, body.getJsonNumber("temperature").doubleValue());
        JsonObject plain = Json.createReader(new StringReader(api.requestBody(
                new RequestInput(0, 0, "Hello", List.of()), false, null, false))).readObject();
        assertFalse(plain.containsKey("system_prompt"), "the service's own system prompt");
        assertFalse(plain.containsKey("temperature"), "the service's default");
    }

    @Test
    void readsTheReplyAndThePromptTokensReused() {
        RequestOutcome o = api.readReply("""
                {"response":"That sounds hard.","latency":0.25,"cache_hit":false,"tokens_generated":17,
                 "metadata":{"generation_time":0.2,"input_tokens":240,"input_tokens_reused":200,
                 "time_to_first_token":0.031}}""", 1);
        assertEquals("That sounds hard.", o.reply());
        assertEquals(240, o.promptTokens());
        assertEquals(200, o.reusedTokens());
        assertEquals(0.031, o.serverFirstToken());

        RequestOutcome older = api.readReply("""
                {"response":"x","latency":0.25,"cache_hit":false,"tokens_generated":1,
                 "metadata":{"generation_time":0.2,"input_tokens":40}}""", 1);
        assertEquals(0, older.reusedTokens(), "a service without the prefix cache reused nothing");
        RequestOutcome bare = api.readReply("""
                {"response":"x","latency":0.25,"cache_hit":false,"tokens_generated":1,
                 "metadata":{"generation_time":0.2}}""", 1);
        assertEquals(-1, bare.promptTokens(), "not reported");
        assertEquals(-1, bare.reusedTokens(), "not reported");
        assertEquals(0, bare.serverFirstToken());
    }

    @Test
    void aTwoHundredWithoutTheContractIsAnError() {
        for (String body : List.of("", "not json", "[]", "{}", "{\"cache_hit\":\"yes\",\"tokens_generated\":1,"
                + "\"latency\":1,\"metadata\":{\"generation_time\":1}}",
                "{\"cache_hit\":true,\"tokens_generated\":1,\"latency\":1}")) {
            RequestOutcome o = api.readReply(body, 1);
            assertFalse(o.success(), body);
            assertEquals(RequestOutcome.INVALID_RESPONSE, o.errorKey(), body);
        }
    }
}
