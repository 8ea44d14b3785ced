package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
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

    @ParameterizedTest
    @CsvSource({"en", "en-GB", "fr-CA", "zh-Hant-TW", "fr-CA-u-nu-latn", "en-US-x-clinic", "es_MX"})
    void localeIsALanguageTag(String tag) {
        assertEquals(tag, read("{\"user_input\": \"hi\", \"locale\": \"" + tag + "\"}").locale());
        assertEquals(tag, InferenceRequestReader.preferredLocale(tag + ",en;q=0.5"));
    }

    @ParameterizedTest
    @CsvSource({"e", "english-GB", "en--GB", "en-GB-", "en-a-b-c-d-e-f-g-h", "'en GB'", "12-GB"})
    void localeThatIsNoLanguageTagIsRefused(String tag) {
        assertEquals("locale", fieldOf("{\"user_input\": \"hi\", \"locale\": \"" + tag + "\"}"));
        assertNull(InferenceRequestReader.preferredLocale(tag));
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
        // an unpaired surrogate escape: the UTF-8 check of the body cannot see it (a JSON escape, not bytes)
        "{\"user_input\": \"hi \\ud800\"}|user_input",
        "{\"user_input\": \"\\udc00\\ud83d\"}|user_input",
        "{\"user_input\": \"hi\", \"system_prompt\": \"\\udfff\"}|system_prompt",
        "{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\", \"content\": \"a\\ud83d\"}]}"
                + "|conversation_history[0].content",
        "{\"user_input\": \"hi\", \"stop\": [\"a\", \"\\ud800\"]}|stop[1]",
        "{\"user_input\": \"hi\", \"cache_salt\": \"\\ud800\"}|cache_salt",
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
    void anEscapedSurrogatePairIsOneCharacter() {
        assertEquals("hi \ud83d\ude00", read("{\"user_input\": \"hi \\ud83d\\ude00\"}").userInput());
    }

    @Test
    void aBodyThatStopsArrivingIsTheClientsBadBody() {
        // what Grizzly throws when the client goes away or stalls past the read timeout mid-body
        InputStream stalled = new InputStream() {
            private int sent;

            @Override
            public int read() throws IOException {
                if (sent < 10) {
                    return "{\"user_inp".charAt(sent++);
                }
                throw new IOException("read timed out");
            }
        };
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> reader.read(stalled));
        assertEquals("body", e.field());
    }

    @Test
    void aKeyGivenTwiceIsABadBody() {
        // read as the first value by some parsers and as the last by others: refused, not guessed
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read("{\"user_input\": \"hi\", \"secret_key\": 1, \"secret_key\": 2}"));
        assertEquals("body", e.field());
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertEquals("body", fieldOf("{\"user_input\": \"hi\", \"conversation_history\": [{\"role\": \"user\", "
                + "\"role\": \"assistant\", \"content\": \"x\"}]}"));
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

    /** {"user_input": "a?b"} with the bytes {@code bad} in place of the question mark. */
    private static byte[] withBytes(int... bad) {
        byte[] head = "{\"user_input\": \"a".getBytes(StandardCharsets.US_ASCII);
        byte[] tail = "b\"}".getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        for (int i = 0; i < bad.length; i++) {
            body[head.length + i] = (byte) bad[i];
        }
        System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
        return body;
    }

    static Stream<Arguments> notUtf8() {
        return Stream.of(
                Arguments.of("a lead byte before an ASCII byte (C3 28)", new int[] {0xC3, 0x28}),
                Arguments.of("a lone continuation byte (80)", new int[] {0x80}),
                Arguments.of("a sequence cut short (E2 82)", new int[] {0xE2, 0x82}),
                Arguments.of("overlong slash (C0 AF)", new int[] {0xC0, 0xAF}),
                Arguments.of("overlong NUL (C0 80)", new int[] {0xC0, 0x80}),
                Arguments.of("overlong three-byte slash (E0 80 AF)", new int[] {0xE0, 0x80, 0xAF}),
                Arguments.of("a lone high surrogate (ED A0 80)", new int[] {0xED, 0xA0, 0x80}),
                Arguments.of("a lone low surrogate (ED B0 80)", new int[] {0xED, 0xB0, 0x80}),
                Arguments.of("a surrogate pair in CESU-8 (ED A0 BD ED B8 80)",
                        new int[] {0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}),
                Arguments.of("beyond U+10FFFF (F4 90 80 80)", new int[] {0xF4, 0x90, 0x80, 0x80}),
                Arguments.of("a byte UTF-8 never uses (FF)", new int[] {0xFF}),
                Arguments.of("Latin-1 e acute (E9)", new int[] {0xE9}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notUtf8")
    void aBodyThatIsNotUtf8IsABadBodyNamingTheOffset(String name, int[] bad) {
        byte[] body = withBytes(bad);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> reader.read(new ByteArrayInputStream(body)), name);
        assertEquals("body", e.field());
        assertTrue(e.getMessage().contains("UTF-8") && e.getMessage().contains("byte 17"), e.getMessage());
    }

    @Test
    void validUtf8OfEveryLengthIsRead() {
        // 2, 3 and 4 bytes: e acute, the euro sign, an emoji; U+FFFF and U+10FFFF are valid too
        byte[] body = withBytes(0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xEF, 0xBF, 0xBF,
                0xF4, 0x8F, 0xBF, 0xBF);
        assertEquals("a\u00e9\u20ac\uD83D\uDE00\uFFFF\uDBFF\uDFFFb",
                reader.read(new ByteArrayInputStream(body)).userInput());
    }

    @Test
    void aLeadingByteOrderMarkIsIgnored() {
        byte[] json = "{\"user_input\": \"hi\"}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[json.length + 3];
        body[0] = (byte) 0xEF;
        body[1] = (byte) 0xBB;
        body[2] = (byte) 0xBF;
        System.arraycopy(json, 0, body, 3, json.length);
        assertEquals("hi", reader.read(new ByteArrayInputStream(body)).userInput());
    }
}
