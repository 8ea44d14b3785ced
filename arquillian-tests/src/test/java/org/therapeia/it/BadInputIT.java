package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad input of the issue: 400, an RFC 7807 problem body naming the field at fault, and the
 * service answers the next request as before. Limits are the defaults of
 * microprofile-config.properties (user input 4000 characters, max_new_tokens 1024, body 256 KiB).
 */
@Order(4)
class BadInputIT extends RunningService {

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("missing user_input", "{\"use_cache\": true}", "user_input"),
                Arguments.of("null user_input", "{\"user_input\": null}", "user_input"),
                Arguments.of("empty user_input", "{\"user_input\": \"\"}", "user_input"),
                Arguments.of("whitespace-only user_input", "{\"user_input\": \"  \\n\\t \"}", "user_input"),
                Arguments.of("user_input over the limit", "{\"user_input\": \"" + "a".repeat(4001) + "\"}",
                        "user_input"),
                Arguments.of("malformed JSON", "{\"user_input\": \"hi\",", "body"),
                Arguments.of("not an object", "[\"hi\"]", "body"),
                Arguments.of("empty body", "", "body"),
                Arguments.of("user_input a number", "{\"user_input\": 42}", "user_input"),
                Arguments.of("use_cache a string", "{\"user_input\": \"hi\", \"use_cache\": \"yes\"}", "use_cache"),
                Arguments.of("temperature a string", "{\"user_input\": \"hi\", \"temperature\": \"hot\"}",
                        "temperature"),
                Arguments.of("max_new_tokens a fraction", "{\"user_input\": \"hi\", \"max_new_tokens\": 1.5}",
                        "max_new_tokens"),
                Arguments.of("system_prompt a number", "{\"user_input\": \"hi\", \"system_prompt\": 7}",
                        "system_prompt"),
                Arguments.of("history not an array", "{\"user_input\": \"hi\", \"conversation_history\": \"hello\"}",
                        "conversation_history"),
                Arguments.of("history entry not an object", "{\"user_input\": \"hi\", \"conversation_history\": [1]}",
                        "conversation_history[0]"),
                Arguments.of("history content a number",
                        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\", \"content\": 5}]}",
                        "conversation_history[0].content"),
                Arguments.of("unknown role",
                        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\", \"content\": \"a\"},"
                                + " {\"role\": \"wizard\", \"content\": \"b\"}]}",
                        "conversation_history[1].role"),
                Arguments.of("system role in the history",
                        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"system\","
                                + " \"content\": \"a\"}]}",
                        "conversation_history[0].role"),
                Arguments.of("temperature below 0", "{\"user_input\": \"hi\", \"temperature\": -0.1}", "temperature"),
                Arguments.of("top_p 0", "{\"user_input\": \"hi\", \"top_p\": 0}", "top_p"),
                Arguments.of("top_p above 1", "{\"user_input\": \"hi\", \"top_p\": 1.5}", "top_p"),
                Arguments.of("top_k below 0", "{\"user_input\": \"hi\", \"top_k\": -1}", "top_k"),
                Arguments.of("max_new_tokens 0", "{\"user_input\": \"hi\", \"max_new_tokens\": 0}", "max_new_tokens"),
                Arguments.of("max_new_tokens negative", "{\"user_input\": \"hi\", \"max_new_tokens\": -5}",
                        "max_new_tokens"),
                Arguments.of("max_new_tokens over the limit", "{\"user_input\": \"hi\", \"max_new_tokens\": 1025}",
                        "max_new_tokens"),
                Arguments.of("repetition_penalty 0", "{\"user_input\": \"hi\", \"repetition_penalty\": 0}",
                        "repetition_penalty"),
                Arguments.of("body over the size limit",
                        "{\"user_input\": \"hi\", \"padding\": \"" + "x".repeat(300_000) + "\"}", "body"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badInputIs400NamingTheFieldAndTheServiceKeepsServing(String name, String body, String field) {
        Api.Reply reply = api.postBytes(Api.INFERENCE, body.getBytes(StandardCharsets.UTF_8));
        assertEquals(400, reply.status(), () -> name + ": " + reply);
        assertTrue(reply.contentType().startsWith("application/problem+json"), () -> name + ": " + reply);
        JsonObject problem = reply.json();
        assertEquals(400, problem.getInt("status"), problem::toString);
        assertEquals(field, problem.getString("field"), problem::toString);
        assertFalse(problem.getString("title").isBlank());
        assertFalse(problem.getString("detail").isBlank());
        assertTrue(problem.getString("type").startsWith("urn:therapeia:problem:"), problem::toString);

        JsonObject next = api.inferOk(Api.object("user_input", "Still there?", "max_new_tokens", 4).build());
        InferenceIT.assertSeedFields(next);
    }

    @Test
    void badInputIsCountedByKind() {
        api.post(Api.INFERENCE, "{\"user_input\": \"\"}");
        double invalid = Api.sample(api.prometheus(), "therapeia_errors_total", "kind=\"invalid_request\"");
        assertTrue(invalid >= 1, "therapeia_errors_total{kind=invalid_request}: " + invalid);
    }
}
