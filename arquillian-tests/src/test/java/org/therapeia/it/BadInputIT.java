package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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
 * A body that is not UTF-8 is 400 naming {@code body}; a Content-Type that is not JSON is 415 naming
 * {@code Content-Type}, on both inference endpoints.
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

    private static final String STREAM = "api/v1/inference/stream";
    /** What a streaming client accepts: the events, or a problem when refused before the stream. */
    private static final Map<String, String> STREAM_ACCEPT = Map.of("Accept", "text/event-stream, application/problem+json");

    private static final byte[] VALID = "{\"user_input\": \"Still there?\", \"max_new_tokens\": 4}"
            .getBytes(StandardCharsets.UTF_8);

    private Api.Reply post(String path, String contentType, byte[] body) {
        return api.postBytes(path, contentType, body, path.equals(STREAM) ? STREAM_ACCEPT : Map.of());
    }

    private void assertProblem(Api.Reply reply, int status, String field, String what) {
        assertEquals(status, reply.status(), () -> what + ": " + reply);
        assertTrue(reply.contentType().startsWith("application/problem+json"), () -> what + ": " + reply);
        JsonObject problem = reply.json();
        assertEquals(status, problem.getInt("status"), problem::toString);
        assertEquals(field, problem.getString("field"), problem::toString);
        assertFalse(problem.getString("title").isBlank());
        assertFalse(problem.getString("detail").isBlank());
        assertTrue(problem.getString("type").startsWith("urn:therapeia:problem:"), problem::toString);
    }

    static Stream<Arguments> notJson() {
        return Stream.of("text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/xml", "application/octet-stream",
                        // not one concrete media type: unparseable, or a wildcard
                        "garbage", "application/", "*/*", "application/*")
                .flatMap(type -> Stream.of(Arguments.of(Api.INFERENCE, type),
                        Arguments.of(STREAM, type)));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("notJson")
    void aContentTypeThatIsNotJsonIs415NamingIt(String path, String contentType) {
        assertProblem(post(path, contentType, VALID), 415, "Content-Type", path + " as " + contentType);
        InferenceIT.assertSeedFields(api.inferOk(Api.object("user_input", "Still there?", "max_new_tokens", 4)
                .build()));
    }

    @Test
    void anUnsupportedMediaTypeIsCounted() {
        double before = unsupported();
        assertEquals(415, post(Api.INFERENCE, "text/plain", VALID).status()); // refused by JAX-RS matching
        assertEquals(415, post(Api.INFERENCE, "garbage", VALID).status()); // refused before JAX-RS
        assertEquals(before + 2, unsupported(), "therapeia_errors_total{kind=unsupported_media_type}");
    }

    private double unsupported() {
        double n = Api.sample(api.prometheus(), "therapeia_errors_total", "kind=\"unsupported_media_type\"");
        return Double.isNaN(n) ? 0 : n;
    }

    @Test
    void jsonWithParametersOrWithoutAContentTypeIsServed() {
        for (String type : new String[] {"application/json", "application/json; charset=utf-8",
                "application/json;charset=UTF-8", "Application/JSON"}) {
            Api.Reply reply = post(Api.INFERENCE, type, VALID);
            assertEquals(200, reply.status(), () -> type + ": " + reply);
            InferenceIT.assertSeedFields(reply.json());
        }
        Api.Reply untyped = post(Api.INFERENCE, null, VALID);
        assertEquals(200, untyped.status(), () -> "no Content-Type (the seed accepted it as JSON): " + untyped);
    }

    /** Each with a valid ASCII prefix and suffix inside user_input, so only the bytes themselves are at fault. */
    static Stream<Arguments> notUtf8() {
        Stream<Arguments> cases = Stream.of(
                Arguments.of("a lead byte before ASCII (C3 28)", new int[] {0xC3, 0x28}),
                Arguments.of("a lone continuation byte (80)", new int[] {0x80}),
                Arguments.of("overlong slash (C0 AF)", new int[] {0xC0, 0xAF}),
                Arguments.of("overlong NUL (C0 80)", new int[] {0xC0, 0x80}),
                Arguments.of("overlong three-byte slash (E0 80 AF)", new int[] {0xE0, 0x80, 0xAF}),
                Arguments.of("overlong four-byte (F0 80 80 AF)", new int[] {0xF0, 0x80, 0x80, 0xAF}),
                Arguments.of("a lone high surrogate (ED A0 80)", new int[] {0xED, 0xA0, 0x80}),
                Arguments.of("a lone low surrogate (ED B0 80)", new int[] {0xED, 0xB0, 0x80}),
                Arguments.of("beyond U+10FFFF (F4 90 80 80)", new int[] {0xF4, 0x90, 0x80, 0x80}),
                Arguments.of("Latin-1 (E9)", new int[] {0xE9}));
        return cases.flatMap(c -> Stream.of(Arguments.of(Api.INFERENCE, c.get()[0], c.get()[1]),
                Arguments.of(STREAM, c.get()[0], c.get()[1])));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("notUtf8")
    void aBodyThatIsNotUtf8Is400NamingBody(String path, String name, int[] bad) {
        byte[] head = "{\"user_input\": \"I feel ".getBytes(StandardCharsets.US_ASCII);
        byte[] tail = " today\", \"max_new_tokens\": 4}".getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        for (int i = 0; i < bad.length; i++) {
            body[head.length + i] = (byte) bad[i];
        }
        System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);

        Api.Reply reply = post(path, "application/json", body);
        assertProblem(reply, 400, "body", path + ", " + name);
        assertTrue(reply.json().getString("detail").contains("UTF-8"), reply::toString);
        InferenceIT.assertSeedFields(api.inferOk(Api.object("user_input", "Still there?", "max_new_tokens", 4)
                .build()));
    }
}
