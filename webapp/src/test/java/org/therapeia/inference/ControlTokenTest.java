package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.therapeia.Fixtures;
import org.therapeia.api.ChatMessage;

/**
 * Control tokens come only from the chat template (issue 10, requirement 2). On the ChatML,
 * Llama-3, Mistral (control [INST] and legacy normaliser) and Phi-3 templates of
 * fixtures/tokenizer-cases, with tokenizers derived from its tiny tokenizers: the prompt ids of
 * conversations whose messages carry control strings equal Hugging Face's reference
 * (src/test/resources/control-tokens/cases.json, written by src/test/python/make_control_token_cases.py:
 * the template's control tokens recognised, message text as plain text, a message alone equal to
 * its split_special_tokens=True ids), and the control tokens of a prompt do not depend on what
 * anyone wrote.
 */
class ControlTokenTest {

    private static final Path CASES = Path.of("src", "test", "resources", "control-tokens");
    private static final JsonObject REFERENCE = Fixtures.readJson(CASES.resolve("cases.json"));
    private static final JsonObject TEMPLATES = Fixtures.readJson(
            Fixtures.tokenizerCases().resolve("chat_template_cases.json"));
    private static final Map<String, Tokenizer> TOKENIZERS = new HashMap<>();

    @AfterAll
    static void close() {
        TOKENIZERS.values().forEach(Tokenizer::close);
    }

    private static synchronized Tokenizer tokenizer(String family) {
        return TOKENIZERS.computeIfAbsent(family, f -> Tokenizer.load(
                CASES.resolve(REFERENCE.getJsonObject("families").getJsonObject(f).getString("tokenizer"))));
    }

    private static ChatTemplate template(String family) {
        JsonObject f = REFERENCE.getJsonObject("families").getJsonObject(family);
        return new ChatTemplate(TEMPLATES.getJsonObject(f.getString("template")).getString("template"),
                f.getString("bos"), f.getString("eos"));
    }

    private static Set<Integer> specialIds(String family) {
        return REFERENCE.getJsonObject("families").getJsonObject(family).getJsonArray("special_ids")
                .getValuesAs(JsonNumber.class).stream().map(JsonNumber::intValue).collect(Collectors.toSet());
    }

    private static int[] ints(JsonArray array) {
        return array.getValuesAs(JsonNumber.class).stream().mapToInt(JsonNumber::intValue).toArray();
    }

    /** The prompt the service builds: system prompt, history, user input, through PromptBuilder. */
    private static int[] prompt(String family, String system, List<ChatMessage> history, String user) {
        return new PromptBuilder(template(family), tokenizer(family), new HistoryWindow(1000, 1))
                .build(system, history, user, 1, 1 << 20).ids();
    }

    private static int[] prompt(String family, List<ChatMessage> messages) {
        boolean hasSystem = ChatMessage.SYSTEM.equals(messages.get(0).role());
        return prompt(family, hasSystem ? messages.get(0).content() : null,
                messages.subList(hasSystem ? 1 : 0, messages.size() - 1), messages.get(messages.size() - 1).content());
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (JsonValue c : REFERENCE.getJsonArray("cases")) {
            JsonObject o = c.asJsonObject();
            String last = o.getJsonArray("messages").getJsonObject(o.getJsonArray("messages").size() - 1)
                    .getString("content");
            out.add(Arguments.of(o.getString("family") + "#" + i++ + " "
                    + last.substring(0, Math.min(30, last.length())).replace('\n', ' '), o));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void promptIdsEqualHuggingFacesWithMessagesAsPlainText(String name, JsonObject c) {
        String family = c.getString("family");
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonObject m : c.getJsonArray("messages").getValuesAs(JsonObject.class)) {
            messages.add(new ChatMessage(m.getString("role"), m.getString("content")));
        }
        int[] ids = prompt(family, messages);
        assertArrayEquals(ints(c.getJsonArray("ids")), ids, "prompt ids");
        for (JsonValue plain : c.getJsonArray("content_plain_ids")) {
            if (plain.getValueType() == JsonValue.ValueType.ARRAY) {
                assertTrue(containsRun(ids, ints(plain.asJsonArray())),
                        "the message's split_special_tokens ids are a run of the prompt");
            }
        }
    }

    private static boolean containsRun(int[] haystack, int[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static List<Integer> controlTokens(String family, int[] ids) {
        Set<Integer> special = specialIds(family);
        List<Integer> out = new ArrayList<>();
        for (int id : ids) {
            if (special.contains(id)) {
                out.add(id);
            }
        }
        return out;
    }

    /** What a hostile or careless client might write: every family's control text, whole and in pieces. */
    private static final String[] FRAGMENTS = {
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>",
        "<|end_header_id|>", "<|end_of_text|>", "[INST]", "[/INST]", "<s>", "</s>", "<unk>", "<|user|>",
        "<|assistant|>", "<|system|>", "<|end|>", "<think>", "<|", "|>", "<", ">", "[", "]", "/", "im_start",
        "system", "user", "assistant", "INST", "s", " ", "  ", "\n", "\n\n", "\t", "\u00a0", "\u2581", "hello",
        "I feel", "anxious", "\uD83D\uDE00", "\u00fc", "\uE000", "\uE001", "\uF8FF", "123456789012345678", "0",
        "\uDB80\uDC00", "\uD800", "\uDC00", "'s", "{{ x }}", "{% if %}", "{{ bos_token }}", "{{ eos_token }}", "\\n",
    };

    private static String randomText(Random random) {
        StringBuilder s = new StringBuilder();
        int parts = 1 + random.nextInt(12);
        for (int i = 0; i < parts; i++) {
            s.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
        }
        return s.toString();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"chatml", "llama3", "mistral", "mistral_legacy", "phi3"})
    void controlTokensOfThePromptDoNotDependOnWhatAnyoneWrote(String family) {
        boolean system = !family.startsWith("mistral");
        List<ChatMessage> benignHistory = List.of(new ChatMessage("user", "Hello."),
                new ChatMessage("assistant", "Hi, how are you?"));
        List<Integer> expected = controlTokens(family,
                prompt(family, system ? "Be kind." : null, benignHistory, "I feel anxious."));
        List<Integer> expectedBare = controlTokens(family, prompt(family, null, List.of(), "I feel anxious."));
        Random random = new Random(20261204L);
        for (int i = 0; i < 300; i++) {
            String a = randomText(random);
            String b = randomText(random);
            String c = randomText(random);
            List<ChatMessage> history = List.of(new ChatMessage("user", a), new ChatMessage("assistant", b));
            // a blank system prompt is no system prompt (PromptBuilder): keep one, of any text
            int[] ids = prompt(family, system ? "Be kind." + c : null, history, randomText(random));
            assertEquals(expected, controlTokens(family, ids), () -> "control tokens with messages "
                    + List.of(a, b, c));
            String alone = randomText(random);
            assertEquals(expectedBare, controlTokens(family, prompt(family, null, List.of(), alone)),
                    () -> "control tokens with user input " + alone);
        }
    }

    /** A template that writes half a control token next to the message cannot have the message complete it. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"start", "start|> hi", "  start|>", "hi <|im_", "<|im_", "im_start", "|>"})
    void messageTextNeverCompletesAControlTokenTheTemplateBegan(String content) {
        ChatTemplate halves = new ChatTemplate("{% for m in messages %}{{ '<|im_' + m['content'] | trim + '|>' }}"
                + "{{ '<|im_' + m['content'] }}{{ m['content'] + 'start|>' }}{% endfor %}", "", "");
        Tokenizer tokenizer = tokenizer("chatml");
        int[] ids = new PromptBuilder(halves, tokenizer, new HistoryWindow(10, 1))
                .build(null, List.of(), content, 1, 1 << 20).ids();
        assertEquals(List.of(), controlTokens("chatml", ids), "no control token: the template wrote none whole");
        assertEquals(halves.render(List.of(new ChatMessage("user", content)), true),
                tokenizer.decode(ids), "the text itself is kept");
    }

    @Test
    void aPlaceholderCannotBeForged() {
        Tokenizer tokenizer = tokenizer("chatml");
        List<ChatMessage> messages = List.of(new ChatMessage("user", "secret <|im_start|>"),
                new ChatMessage("user", "x"));
        ContentEscapes escapes = tokenizer.escape(messages);
        String placeholder = escapes.messages().get(0).content().substring("secret ".length());
        assertFalse(placeholder.contains("<|im_start|>"));
        assertEquals("secret <|im_start|>", escapes.restore(escapes.messages().get(0).content()));
        // another prompt draws another nonce: the first prompt's placeholder is plain text there
        ContentEscapes other = tokenizer.escape(List.of(new ChatMessage("user", placeholder)));
        assertEquals(placeholder, other.restore(other.messages().get(0).content()));
        // and a message holding the placeholder of its own prompt cannot exist: the nonce is in no message
        for (int i = 0; i < 200; i++) {
            ContentEscapes e = tokenizer.escape(List.of(new ChatMessage("user", "<|im_end|>"),
                    new ChatMessage("user", placeholder)));
            assertEquals(placeholder, e.restore(e.messages().get(1).content()));
            assertEquals("<|im_end|>", e.restore(e.messages().get(0).content()));
        }
    }

    @Test
    void benignMessagesAreEncodedAsHuggingFaceEncodesTheRenderedTemplate() {
        Tokenizer tokenizer = tokenizer("llama3");
        ChatTemplate template = template("llama3");
        List<ChatMessage> messages = List.of(new ChatMessage("system", "Be kind."), new ChatMessage("user", "Hello."));
        assertArrayEquals(tokenizer.encode(template.render(messages, true)),
                prompt("llama3", "Be kind.", List.of(), "Hello."));
    }

    /**
     * A Unigram model holds its control tokens as pieces it may choose for plain text (Hugging
     * Face's split_special_tokens then still yields "</s>"): the prompt is refused, not sent.
     * WordPiece's [UNK] is the model's word for unknown text and is allowed.
     */
    @Test
    void aModelThatSpellsControlTokensFromTextIsRefused() {
        ChatTemplate chatml = new ChatTemplate(TEMPLATES.getJsonObject("chatml").getString("template"), "", "");
        try (Tokenizer unigram = Tokenizer.load(Fixtures.tokenizerCases().resolve("tiny_unigram_tokenizer.json"));
             Tokenizer wordpiece = Tokenizer.load(Fixtures.tokenizerCases().resolve("tiny_wordpiece_tokenizer.json"))) {
            assertThrows(TokenizerException.class,
                    () -> new PromptBuilder(chatml, unigram, new HistoryWindow(10, 1))
                            .build(null, List.of(), "the </s> cat", 1, 4096));
            int[] ids = new PromptBuilder(chatml, wordpiece, new HistoryWindow(10, 1))
                    .build(null, List.of(), "a [SEP] <s> b", 1, 4096).ids();
            assertFalse(Stream.of(2, 3).anyMatch(special -> java.util.Arrays.stream(ids).anyMatch(id -> id == special)),
                    "no [CLS] or [SEP] from text");
        }
    }

    /** A JSON string may hold an unpaired surrogate ("\\ud800"): it reads as U+FFFD, the rest of the prompt intact. */
    @Test
    void anUnpairedSurrogateIsTheReplacementCharacter() {
        String text = "\uD83D\uDE00 <|im_start|>\uD800 x \uDC00\uD83D\uDE00<|eot_id|>";
        String replaced = "\uD83D\uDE00 <|im_start|>\uFFFD x \uFFFD\uD83D\uDE00<|eot_id|>";
        for (String family : List.of("chatml", "llama3", "mistral")) {
            assertArrayEquals(prompt(family, null, List.of(), replaced), prompt(family, null, List.of(), text), family);
        }
    }
}
