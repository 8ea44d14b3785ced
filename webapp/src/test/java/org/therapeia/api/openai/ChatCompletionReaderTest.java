package org.therapeia.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.therapeia.TestConfig;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InvalidRequestException;
import org.therapeia.api.ModelNotFoundException;
import org.therapeia.api.UnsupportedParameterException;

class ChatCompletionReaderTest {

    private static final String USER = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";

    private final ChatCompletionReader reader = new ChatCompletionReader(TestConfig.inference(Map.of(
            "MODEL_ID", "tiny",
            "LIMITS_USER_INPUT_CHARS", "20",
            "LIMITS_MESSAGE_CHARS", "30",
            "LIMITS_MAX_NEW_TOKENS", "512",
            "LIMITS_BODY_BYTES", "2000",
            "LIMITS_HISTORY_MESSAGES", "3")));

    private ChatCompletionRequest read(String json) {
        return reader.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    /** A body with the model and one user message, plus {@code extra} fields. */
    private ChatCompletionRequest with(String extra) {
        return read("{\"model\": \"tiny\", " + USER + (extra.isEmpty() ? "" : ", " + extra) + "}");
    }

    private InvalidRequestException refused(String extra) {
        return assertThrows(InvalidRequestException.class, () -> with(extra));
    }

    @Test
    void minimalRequestLeavesEverythingToTheDefaults() {
        ChatCompletionRequest r = with("");
        InferenceRequest i = r.inference();
        assertEquals("hi", i.userInput());
        assertTrue(i.conversationHistory().isEmpty());
        assertNull(i.systemPrompt());
        assertNull(i.maxNewTokens());
        assertNull(i.temperature());
        assertNull(i.frequencyPenalty());
        assertTrue(i.stop().isEmpty());
        assertTrue(i.useCache());
        assertFalse(r.stream());
        assertFalse(r.includeUsage());
    }

    @Test
    void everyFieldIsRead() {
        ChatCompletionRequest r = read("{\"model\": \"tiny\", \"messages\": ["
                + "{\"role\": \"system\", \"content\": \"Be kind.\"},"
                + "{\"role\": \"developer\", \"content\": [{\"type\": \"text\", \"text\": \"Be \"}, "
                + "{\"type\": \"text\", \"text\": \"brief.\"}]},"
                + "{\"role\": \"user\", \"content\": \"Hello\", \"name\": \"ann\"},"
                + "{\"role\": \"assistant\", \"content\": \"Hi\"},"
                + "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"I feel low\"}]}],"
                + "\"max_completion_tokens\": 40, \"max_tokens\": 80, \"temperature\": 0, \"top_p\": 0.5, "
                + "\"top_k\": 7, \"repetition_penalty\": 1.2, \"seed\": -3, \"frequency_penalty\": -2, "
                + "\"presence_penalty\": 1.5, \"stop\": [\"a\", \"\\n\\n\"], \"n\": 1, \"stream\": true, "
                + "\"stream_options\": {\"include_usage\": true}, \"user\": \"someone\", \"logprobs\": false, "
                + "\"response_format\": {\"type\": \"text\"}, \"tool_choice\": \"none\", \"tools\": [], "
                + "\"logit_bias\": {}, \"locale\": \"en-GB\", \"something_new\": {\"x\": 1}}");
        InferenceRequest i = r.inference();
        assertEquals("Be kind.\n\nBe brief.", i.systemPrompt());
        assertEquals(List.of(new ChatMessage("user", "Hello"), new ChatMessage("assistant", "Hi")),
                i.conversationHistory());
        assertEquals("I feel low", i.userInput());
        assertEquals(40, i.maxNewTokens()); // max_completion_tokens wins
        assertEquals(0.0, i.temperature());
        assertEquals(0.5, i.topP());
        assertEquals(7, i.topK());
        assertEquals(1.2, i.repetitionPenalty());
        assertEquals(-3L, i.seed());
        assertEquals(-2.0, i.frequencyPenalty());
        assertEquals(1.5, i.presencePenalty());
        assertEquals(List.of("a", "\n\n"), i.stop());
        assertEquals("someone", i.cacheSalt(), "without cache_salt, user names who may share the prompt prefix");
        assertEquals("en-GB", i.locale(), "the crisis resources of the person's country, as on the seed API");
        assertTrue(r.stream());
        assertTrue(r.includeUsage());
    }

    @Test
    void maxTokensAloneAndAStopString() {
        InferenceRequest i = with("\"max_tokens\": 12, \"stop\": \"END\"").inference();
        assertEquals(12, i.maxNewTokens());
        assertEquals(List.of("END"), i.stop());
    }

    @Test
    void theModelMustBeTheServedOne() {
        assertEquals("model", assertThrows(ModelNotFoundException.class,
                () -> read("{\"model\": \"gpt-4o\", " + USER + "}")).field());
        assertEquals("model", assertThrows(InvalidRequestException.class, () -> read("{" + USER + "}")).field());
        assertEquals("model", assertThrows(InvalidRequestException.class,
                () -> read("{\"model\": 5, " + USER + "}")).field());
    }

    @Test
    void anAliasNamesTheServedModelToo() {
        ChatCompletionReader aliased = new ChatCompletionReader(TestConfig.inference(Map.of("MODEL_ID", "tiny",
                "MODEL_ALIASES", "gpt-4o-mini,therapist")));
        for (String name : new String[] {"tiny", "gpt-4o-mini", "therapist"}) {
            assertEquals("hi", aliased.parse(("{\"model\": \"" + name + "\", " + USER + "}")
                    .getBytes(StandardCharsets.UTF_8)).inference().userInput(), name);
        }
        ModelNotFoundException other = assertThrows(ModelNotFoundException.class, () -> aliased.parse(
                ("{\"model\": \"gpt-4o\", " + USER + "}").getBytes(StandardCharsets.UTF_8)));
        assertEquals("this service serves the model tiny (also called gpt-4o-mini, therapist) only (GET /v1/models)",
                other.getMessage(), "the names it serves, never the one asked for");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]|tools",
        "\"tool_choice\": \"auto\"|tool_choice",
        "\"functions\": [{\"name\": \"f\"}]|functions",
        "\"function_call\": \"auto\"|function_call",
        "\"logprobs\": true|logprobs",
        "\"top_logprobs\": 2|top_logprobs",
        "\"logit_bias\": {\"50256\": -100}|logit_bias",
        "\"response_format\": {\"type\": \"json_object\"}|response_format",
        "\"response_format\": \"text\"|response_format",
        "\"modalities\": [\"text\", \"audio\"]|modalities",
        "\"modalities\": \"text\"|modalities",
        "\"audio\": {\"voice\": \"alloy\", \"format\": \"wav\"}|audio",
    })
    void wellKnownUnsupportedFieldsAreRefusedByName(String extra, String field) {
        InvalidRequestException e = refused(extra);
        assertInstanceOf(UnsupportedParameterException.class, e);
        assertEquals(field, e.field());
    }

    @Test
    void textOutputIsAskedForAsOpenAiAllows() {
        assertEquals("hi", with("\"modalities\": [\"text\"], \"audio\": null").inference().userInput());
        assertEquals("hi", with("\"modalities\": []").inference().userInput());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"n\": 2|n",
        "\"n\": 0|n",
        "\"n\": 1.5|n",
        "\"max_completion_tokens\": 0|max_completion_tokens",
        "\"max_completion_tokens\": 513|max_completion_tokens",
        "\"max_tokens\": 513|max_tokens",
        "\"max_tokens\": \"5\"|max_tokens",
        "\"temperature\": -1|temperature",
        "\"temperature\": 0.001|temperature",
        "\"temperature\": 5.5|temperature",
        "\"top_p\": 0|top_p",
        "\"top_k\": -1|top_k",
        "\"repetition_penalty\": 0|repetition_penalty",
        "\"seed\": 1e30|seed",
        "\"frequency_penalty\": 2.01|frequency_penalty",
        "\"frequency_penalty\": -3|frequency_penalty",
        "\"presence_penalty\": \"high\"|presence_penalty",
        "\"stop\": 5|stop",
        "\"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]|stop",
        "\"stop\": [\"a\", \"\"]|stop[1]",
        "\"stop\": [\"a\", 3]|stop[1]",
        "\"stream\": \"yes\"|stream",
        "\"stream_options\": {\"include_usage\": true}|stream_options",
        "\"stream\": true, \"stream_options\": 3|stream_options",
        "\"logprobs\": \"yes\"|logprobs",
        "\"logprobs\": 1|logprobs",
        "\"stream\": true, \"stream_options\": {\"include_usage\": 1}|stream_options.include_usage",
        "\"user\": 42|user",
        "\"locale\": \"not a locale\"|locale",
        "\"locale\": 44|locale",
    })
    void badValuesNameTheirField(String extra, String field) {
        assertEquals(field, refused(extra).field());
    }

    @Test
    void aStopStringOverItsLengthIsRefused() {
        assertEquals("stop", refused("\"stop\": \"" + "x".repeat(101) + "\"").field());
        assertEquals(List.of("x".repeat(100)), with("\"stop\": \"" + "x".repeat(100) + "\"").inference().stop());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"model\": \"tiny\"}|messages",
        "{\"model\": \"tiny\", \"messages\": []}|messages",
        "{\"model\": \"tiny\", \"messages\": {}}|messages",
        "{\"model\": \"tiny\", \"messages\": [\"hi\"]}|messages[0]",
        "{\"model\": \"tiny\", \"messages\": [{\"content\": \"hi\"}]}|messages[0].role",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}|messages[0].role",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\"}]}|messages[0].content",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": 3}]}|messages[0].content",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"   \"}]}|messages[0].content",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"123456789012345678901\"}]}"
                + "|messages[0].content",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                + "\"image_url\": {\"url\": \"x\"}}]}]}|messages[0].content[0].type",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]}"
                + "|messages[0].content[0].text",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": [\"hi\"]}]}|messages[0].content[0]",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"system\", \"content\": \"s\"}]}|messages",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", "
                + "\"content\": \"b\"}]}|messages",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"system\", "
                + "\"content\": \"b\"}, {\"role\": \"user\", \"content\": \"c\"}]}|messages[1].role",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"system\", \"content\": \"1234567890123456789012345678901\"},"
                + " {\"role\": \"user\", \"content\": \"c\"}]}|messages[0].content",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", "
                + "\"content\": \"1234567890123456789012345678901\"}, {\"role\": \"user\", \"content\": \"c\"}]}"
                + "|messages[1].content",
        "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", "
                + "\"content\": \"a\"}, {\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", "
                + "\"content\": \"a\"}, {\"role\": \"user\", \"content\": \"c\"}]}|messages",
    })
    void badMessagesNameTheirField(String body, String field) {
        assertEquals(field, assertThrows(InvalidRequestException.class, () -> read(body)).field());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tool", "function"})
    void toolMessagesAreUnsupported(String role) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> read("{\"model\": \"tiny\", "
                + "\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"" + role + "\", "
                + "\"content\": \"r\", \"tool_call_id\": \"1\"}, {\"role\": \"user\", \"content\": \"c\"}]}"));
        assertInstanceOf(UnsupportedParameterException.class, e);
        assertEquals("messages[1].role", e.field());
    }

    @Test
    void assistantToolCallsAreUnsupported() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> read("{\"model\": \"tiny\", "
                + "\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": null,"
                + " \"tool_calls\": [{\"id\": \"1\"}]}, {\"role\": \"user\", \"content\": \"c\"}]}"));
        assertEquals("messages[1].tool_calls", e.field());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[]", "not json", "{\"model\": "})
    void aBodyThatIsNotAJsonObjectIsRefused(String body) {
        assertEquals("body", assertThrows(InvalidRequestException.class, () -> read(body)).field());
    }

    @Test
    void anOversizedBodyIsRefused() {
        String big = "{\"model\": \"tiny\", " + USER + ", \"pad\": \"" + "x".repeat(2100) + "\"}";
        assertEquals("body", assertThrows(InvalidRequestException.class, () -> reader.read(
                new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).field());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[{\"role\": \"user\", \"content\": \"hi \\ud800\"}]|messages[0].content",
        "[{\"role\": \"system\", \"content\": \"\\udc00\"}, {\"role\": \"user\", \"content\": \"hi\"}]"
                + "|messages[0].content",
        "[{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"\\ud83d\"}]}]|messages[0].content",
    })
    void anUnpairedSurrogateEscapeIsRefusedNamingTheMessage(String messages, String field) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read("{\"model\": \"tiny\", \"messages\": " + messages + "}"));
        assertEquals(field, e.field());
    }

    @Test
    void aSurrogatePairSplitBetweenTwoPartsIsWholeAgain() {
        ChatCompletionRequest r = read("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": "
                + "[{\"type\": \"text\", \"text\": \"a\\ud83d\"}, {\"type\": \"text\", \"text\": \"\\ude00\"}]}]}");
        assertEquals("a\ud83d\ude00", r.inference().userInput());
    }

    @Test
    void streamOptionsWithoutUsageAndStreamFalse() {
        assertFalse(with("\"stream\": true, \"stream_options\": {}").includeUsage());
        assertFalse(with("\"stream\": true, \"stream_options\": {\"include_usage\": false}").includeUsage());
        assertFalse(with("\"stream\": false").stream());
        assertFalse(with("\"stream\": null, \"stream_options\": null").stream());
    }
}
