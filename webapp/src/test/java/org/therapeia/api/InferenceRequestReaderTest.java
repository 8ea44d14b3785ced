package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.therapeia.TestConfig;

class InferenceRequestReaderTest {

    private final InferenceRequestReader reader = new InferenceRequestReader(TestConfig.inference(Map.of(
            "LIMITS_USER_INPUT_CHARS", "20",
            "LIMITS_MAX_NEW_TOKENS", "512",
            "LIMITS_BODY_BYTES", "2000",
            "LIMITS_HISTORY_MESSAGES", "3")));

    private InferenceRequest read(String json) {
        return reader.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    private String fieldOf(String json) {
        return assertThrows(InvalidRequestException.class, () -> read(json)).field();
    }

    @Test
    void seedExample() {
        InferenceRequest r = read("{\"user_input\": \"I've been anxious.\", \"use_cache\": true}");
        assertEquals("I've been anxious.", r.userInput());
        assertTrue(r.useCache());
        assertTrue(r.conversationHistory().isEmpty());
        assertNull(r.systemPrompt());
        assertNull(r.temperature());
    }

    @Test
    void fullRequest() {
        InferenceRequest r = read("{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\", "
                + "\"content\": \"Hello\"}, {\"role\": \"assistant\", \"content\": \"Hi\"}], \"system_prompt\": "
                + "\"Be kind.\", \"use_cache\": false, \"max_new_tokens\": 32, \"temperature\": 0, \"top_p\": 1, "
                + "\"top_k\": 0, \"repetition_penalty\": 1.0, \"seed\": 42, \"unknown\": [1]}");
        assertEquals(2, r.conversationHistory().size());
        assertEquals(new ChatMessage("assistant", "Hi"), r.conversationHistory().get(1));
        assertEquals("Be kind.", r.systemPrompt());
        assertFalse(r.useCache());
        assertEquals(32, r.maxNewTokens());
        assertEquals(0.0, r.temperature());
        assertEquals(1.0, r.topP());
        assertEquals(0, r.topK());
        assertEquals(42L, r.seed());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{}|user_input",
        "{\"user_input\": null}|user_input",
        "{\"user_input\": \"\"}|user_input",
        "{\"user_input\": \"  \\n\\t \"}|user_input",
        "{\"user_input\": \"this is more than twenty characters\"}|user_input",
        "{\"user_input\": 5}|user_input",
        "{\"user_input\": [\"a\"]}|user_input",
        "{\"user_input\": \"hi\", \"conversation_history\": {}}|conversation_history",
        "{\"user_input\": \"hi\", \"conversation_history\": [1]}|conversation_history[0]",
        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"robot\", \"content\": \"x\"}]}"
                + "|conversation_history[0].role",
        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"system\", \"content\": \"x\"}]}"
                + "|conversation_history[0].role",
        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\"}]}|conversation_history[0].content",
        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\", \"content\": 3}]}"
                + "|conversation_history[0].content",
        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"user\",\"content\":\"a\"}]}|conversation_history",
        "{\"user_input\": \"hi\", \"system_prompt\": 1}|system_prompt",
        "{\"user_input\": \"hi\", \"use_cache\": \"yes\"}|use_cache",
        "{\"user_input\": \"hi\", \"temperature\": -0.1}|temperature",
        "{\"user_input\": \"hi\", \"temperature\": \"hot\"}|temperature",
        "{\"user_input\": \"hi\", \"top_p\": 0}|top_p",
        "{\"user_input\": \"hi\", \"top_p\": 1.01}|top_p",
        "{\"user_input\": \"hi\", \"top_k\": -1}|top_k",
        "{\"user_input\": \"hi\", \"top_k\": 2.5}|top_k",
        "{\"user_input\": \"hi\", \"max_new_tokens\": 0}|max_new_tokens",
        "{\"user_input\": \"hi\", \"max_new_tokens\": -3}|max_new_tokens",
        "{\"user_input\": \"hi\", \"max_new_tokens\": 513}|max_new_tokens",
        "{\"user_input\": \"hi\", \"max_new_tokens\": 1e12}|max_new_tokens",
        "{\"user_input\": \"hi\", \"repetition_penalty\": 0}|repetition_penalty",
        "{\"user_input\": \"hi\", \"seed\": 1.5}|seed",
        "{\"user_input\": \"hi\"|body",
        "not json|body",
        "[1, 2]|body",
        "\"text\"|body",
    })
    void badInputNamesTheField(String json, String field) {
        assertEquals(field, fieldOf(json));
    }

    @Test
    void nestingDeeperThanTheParserAllowsIsABadBody() {
        assertEquals("body", fieldOf("[".repeat(1500)));
        assertEquals("body", fieldOf("{\"user_input\": " + "[".repeat(1200) + "]".repeat(1200) + "}"));
    }

    @Test
    void emptyBody() {
        assertEquals("body", fieldOf(""));
    }

    @Test
    void bodyOverTheLimit() {
        String big = "{\"user_input\": \"hi\", \"pad\": \"" + "x".repeat(3000) + "\"}";
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> read(big));
        assertEquals("body", e.field());
        assertTrue(e.getMessage().contains("2000"), e.getMessage());
    }

    @Test
    void messagesNeverQuoteTheInput() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read("{\"user_input\": \"my secret is long enough\"}"));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> read("{\"user_input\": \"my secret\" oops}"));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }

    @Test
    void integralFloatIsAcceptedAsInteger() {
        assertEquals(32, read("{\"user_input\": \"hi\", \"max_new_tokens\": 32.0}").maxNewTokens());
    }

    @Test
    void charactersAreCountedAsCodePoints() {
        // 20 emoji are 40 UTF-16 chars but 20 characters
        assertEquals(20, read("{\"user_input\": \"" + "\uD83D\uDE00".repeat(20) + "\"}").userInput()
                .codePointCount(0, 40));
    }
}
