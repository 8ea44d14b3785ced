package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.therapeia.api.ChatMessage;
import org.therapeia.inference.ChatTemplate;

/**
 * The guard's prompt, rendered by its chat template, is the family's documented prompt to the
 * character. The templates under safety/guard/ are Therapeia's own, written to produce the
 * documented formats (Llama Guard 3 8B: string content; 1B: content as parts, escaped newlines,
 * a category mapping; Qwen3Guard-Gen: prompt moderation); the expected texts were also checked
 * against Python's jinja2, as transformers renders them.
 */
class GuardPromptTest {

    static final List<ChatMessage> HISTORY = List.of(
            new ChatMessage(ChatMessage.SYSTEM, "You are a supportive listener."),
            new ChatMessage(ChatMessage.USER, "I can't sleep."),
            new ChatMessage(ChatMessage.ASSISTANT, "That sounds hard. What keeps you up?"));
    static final String MESSAGE = "I just want it all to stop.";

    static String resource(String name) {
        try (InputStream in = GuardPromptTest.class.getResourceAsStream("/safety/guard/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GuardPrompt prompt(String family) {
        return new GuardPrompt(new ChatTemplate(resource(family + ".jinja"), "<|begin_of_text|>", "<|eot_id|>"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-guard-3-8b", "llama-guard-3-1b", "qwen3guard-gen"})
    void rendersTheDocumentedPrompt(String family) {
        String rendered = prompt(family).render(GuardConversation.of(HISTORY, MESSAGE, 10));
        assertEquals(resource(family + ".expected.txt"), rendered);
    }

    @Test
    void aTemplateThatShowsNoMessageIsRefused() {
        ChatTemplate blind = new ChatTemplate("{{ 'Is this safe?' }}", "", "");
        assertThrows(IllegalArgumentException.class, () -> new GuardPrompt(blind));
    }

    @Test
    void theConversationAlternatesFromAUserTurnAndEndsWithTheMessage() {
        List<ChatMessage> history = List.of(
                new ChatMessage(ChatMessage.ASSISTANT, "Welcome back."),
                new ChatMessage(ChatMessage.SYSTEM, "Be kind."),
                new ChatMessage(ChatMessage.USER, "Hi."),
                new ChatMessage(ChatMessage.USER, "Are you there?"),
                new ChatMessage(ChatMessage.ASSISTANT, "I'm here."),
                new ChatMessage(ChatMessage.USER, "Thanks."));
        assertEquals(List.of(
                new ChatMessage(ChatMessage.USER, "Hi.\n\nAre you there?"),
                new ChatMessage(ChatMessage.ASSISTANT, "I'm here."),
                new ChatMessage(ChatMessage.USER, "Thanks.\n\nI feel low.")),
                GuardConversation.of(history, "I feel low.", 10));
    }

    @Test
    void onlyTheMostRecentTurnsAreKept() {
        List<ChatMessage> history = List.of(
                new ChatMessage(ChatMessage.USER, "one"),
                new ChatMessage(ChatMessage.ASSISTANT, "two"),
                new ChatMessage(ChatMessage.USER, "three"),
                new ChatMessage(ChatMessage.ASSISTANT, "four"));
        assertEquals(List.of(
                new ChatMessage(ChatMessage.USER, "three"),
                new ChatMessage(ChatMessage.ASSISTANT, "four"),
                new ChatMessage(ChatMessage.USER, "five")),
                GuardConversation.of(history, "five", 2));
        // with none kept, or one that is an assistant turn, the message stands alone
        assertEquals(List.of(new ChatMessage(ChatMessage.USER, "five")), GuardConversation.of(history, "five", 0));
        assertEquals(List.of(new ChatMessage(ChatMessage.USER, "five")), GuardConversation.of(history, "five", 1));
    }

    @Test
    void aLlamaGuardTemplateRefusesTurnsThatDoNotAlternate() {
        List<ChatMessage> twoUsers = List.of(new ChatMessage(ChatMessage.USER, "a"),
                new ChatMessage(ChatMessage.USER, "b"));
        assertThrows(RuntimeException.class, () -> prompt("llama-guard-3-8b").render(twoUsers));
    }
}
