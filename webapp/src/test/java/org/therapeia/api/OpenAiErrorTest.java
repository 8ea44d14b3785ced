package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * OpenAI's error body rendered from the problem ProblemMapper decided (status, field): the type
 * follows the status, param the field, code OpenAI's identifiers where they exist. (The statuses
 * and headers themselves are ProblemMapper's; OpenAiIT checks them over HTTP.)
 */
class OpenAiErrorTest {

    @Test
    void invalidValueNamesTheParam() {
        assertEquals("{\"error\":{\"message\":\"top_p must be in (0, 1]\",\"type\":\"invalid_request_error\","
                + "\"param\":\"top_p\",\"code\":\"invalid_value\"}}", OpenAiError.body(Problem.of("invalid-request",
                "Invalid request", 400, "top_p must be in (0, 1]", "top_p")).toString());
    }

    @Test
    void oneCodeAndTypePerKind() {
        assertEquals("{\"error\":{\"message\":\"tools are not supported\",\"type\":\"invalid_request_error\","
                + "\"param\":\"tools\",\"code\":\"unsupported_parameter\"}}", OpenAiError.body(Problem.of(
                "unsupported-parameter", "Unsupported parameter", 400, "tools are not supported", "tools")).toString());
        assertEquals("{\"error\":{\"message\":\"no\",\"type\":\"not_found_error\",\"param\":\"model\","
                + "\"code\":\"model_not_found\"}}", OpenAiError.body(Problem.of("model-not-found", "Model not found",
                404, "no", "model")).toString());
        assertEquals("{\"error\":{\"message\":\"key\",\"type\":\"authentication_error\",\"param\":\"X-API-Key\","
                + "\"code\":\"invalid_api_key\"}}", OpenAiError.body(Problem.of("unauthorized", "Unauthorized", 401,
                "key", "X-API-Key")).toString());
        assertEquals("{\"error\":{\"message\":\"busy\",\"type\":\"service_unavailable_error\",\"param\":null,"
                + "\"code\":\"queue_full\"}}", OpenAiError.body(Problem.of("queue-full", "Too busy", 503, "busy",
                null)).toString());
        assertEquals("{\"error\":{\"message\":\"late\",\"type\":\"timeout_error\",\"param\":null,"
                + "\"code\":\"timeout\"}}", OpenAiError.body(Problem.of("timeout", "Generation timed out", 504, "late",
                null)).toString());
    }

    @Test
    void theSeedsConversationFieldsAreTheMessages() {
        assertEquals("messages", OpenAiError.body(Problem.of("prompt-too-long", "Prompt too long", 400, "long",
                "user_input")).getJsonObject("error").getString("param"));
        assertEquals("context_length_exceeded", OpenAiError.body(Problem.of("prompt-too-long", "Prompt too long", 400,
                "long", "user_input")).getJsonObject("error").getString("code"));
        assertEquals("messages", OpenAiError.body(Problem.of("invalid-conversation", "refused", 400, "alternate",
                "conversation_history")).getJsonObject("error").getString("param"));
    }
}
