package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.therapeia.Fixtures;
import org.therapeia.api.ChatMessage;

/**
 * Every case of fixtures/tokenizer-cases/chat_template_cases.json (rendered by jinja2 the way
 * transformers.apply_chat_template does), rendered by our Jinjava ChatTemplate.
 */
class ChatTemplateTest {

    /** The special tokens each family's tokenizer gives the template (as seen in the expected renders). */
    private static final Map<String, String[]> BOS_EOS = Map.ofEntries(
            Map.entry("chatml", new String[] {"", "<|im_end|>"}),
            Map.entry("llama2", new String[] {"<s>", "</s>"}),
            Map.entry("llama3", new String[] {"<|begin_of_text|>", "<|eot_id|>"}),
            Map.entry("zephyr", new String[] {"<s>", "</s>"}),
            Map.entry("gemma", new String[] {"<bos>", "<eos>"}),
            Map.entry("phi3", new String[] {"<s>", "<|endoftext|>"}),
            Map.entry("mistral", new String[] {"<s>", "</s>"}),
            Map.entry("deepseek", new String[] {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"}),
            Map.entry("phi4mini", new String[] {"", "<|endoftext|>"}),
            Map.entry("qwen3_5", new String[] {"", "<|im_end|>"}),
            Map.entry("qwen3_8", new String[] {"", "<|im_end|>"}));

    static Stream<Arguments> cases() {
        JsonObject all = Fixtures.readJson(Fixtures.tokenizerCases().resolve("chat_template_cases.json"));
        List<Arguments> out = new ArrayList<>();
        for (String family : all.keySet()) {
            JsonObject group = all.getJsonObject(family);
            int i = 0;
            for (JsonValue c : group.getJsonArray("cases")) {
                out.add(Arguments.of(family + "#" + i++, family, group.getString("template"), c.asJsonObject()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void rendersLikeTransformers(String name, String family, String template, JsonObject c) {
        String[] special = BOS_EOS.get(family);
        ChatTemplate chat = new ChatTemplate(template, special[0], special[1]);
        List<Map<String, Object>> messages = (List<Map<String, Object>>) Fixtures.toJava(c.get("messages"));
        boolean addGenerationPrompt = c.getBoolean("add_generation_prompt", false);
        Map<String, Object> variables = new HashMap<>();
        if (c.containsKey("reasoning_effort")) {
            String effort = c.getString("reasoning_effort");
            if (effort.equals("off")) {
                variables.put("enable_thinking", false);
            } else {
                variables.put("reasoning_effort", effort);
            }
        }
        if (c.getBoolean("raises", false)) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> chat.render(messages, addGenerationPrompt, variables));
            assertEquals(c.getString("error"), e.getMessage());
            assertTrue(e.raisedByTemplate());
        } else {
            assertEquals(c.getString("expected"), chat.render(messages, addGenerationPrompt, variables));
        }
    }

    @Test
    void rendersChatMessages() {
        ChatTemplate chat = new ChatTemplate("{% for m in messages %}<{{ m.role }}>{{ m['content'] }}\n"
                + "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}", "", "");
        assertEquals("<system>S\n<user>U\n<assistant>",
                chat.render(List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U")), true));
    }

    @Test
    void aDictionaryInGroupingParenthesesIsADictionary() {
        // as Llama Guard 3 1B sets its categories
        ChatTemplate chat = new ChatTemplate("{%- set c = ( {\"S1\": \"a.\", \"S2\": \"(b).\"} ) -%}"
                + "{%- for k in c -%}{{ k + ': ' + c[k] + ';' }}{%- endfor -%}"
                + "{{ ({'y': 1})['y'] }}{{ [({'z': 2})]|length }}", "", "");
        assertEquals("S1: a.;S2: (b).;11", chat.render(List.of(), false));
    }

    @Test
    void strftimeNowIsRegistered() {
        ChatTemplate chat = new ChatTemplate("{{ strftime_now('%Y') }}", "", "");
        String year = chat.render(List.of(), false);
        assertTrue(year.matches("\\d{4}"), year);
    }

    @Test
    void brokenTemplateIsAnError() {
        ChatTemplate chat = new ChatTemplate("{% for m in messages %}", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> chat.render(List.of(new ChatMessage("user", "x")), true));
        assertTrue(!e.raisedByTemplate());
    }

    @Test
    void aRenderingFailureSaysItsLineAndKindOnly() {
        // the renderer's own message may quote what it failed on, and the failure is logged
        ChatTemplate chat = new ChatTemplate("{% include messages[0]['content'] %}", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> chat.render(List.of(new ChatMessage("user", "my secret")), true));
        assertEquals("the chat template could not be rendered (line 1): SYNTAX_ERROR", e.getMessage());
    }

    /** jinja2 prints a value as it is; Jinjava's nested interpretation would run "{{ ... }}" in a message. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"{{ 7*7 }}", "{{ bos_token }}", "{{ messages }}",
        "{% raw %}x", "{% for i in range(9) %}{{ i }}{% endfor %}", "{{ raise_exception('no') }}"})
    void templateSyntaxInAMessageIsText(String content) {
        ChatTemplate chat = new ChatTemplate("{{ bos_token }}{% for m in messages %}[{{ m['content'] }}]"
                + "{{ '<' + m['content'] | trim + '>' }}{% endfor %}", "<|begin_of_text|>", "");
        assertEquals("<|begin_of_text|>[" + content + "]<" + content + ">",
                chat.render(List.of(new ChatMessage("user", content)), true));
    }
}
