package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.therapeia.Fixtures;
import org.therapeia.api.ChatMessage;

class PromptBuilderTest {

    private static Tokenizer tokenizer;
    private static ChatTemplate chatml;
    private static ChatTemplate llama2;
    private static ChatTemplate gemma;
    private static ChatTemplate mistral;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizer.load(Fixtures.tokenizerCases().resolve("tiny_bpe_split_qwen2_tokenizer.json"));
        JsonObject cases = Fixtures.readJson(Fixtures.tokenizerCases().resolve("chat_template_cases.json"));
        chatml = new ChatTemplate(cases.getJsonObject("chatml").getString("template"), "", "<|im_end|>");
        llama2 = new ChatTemplate(cases.getJsonObject("llama2").getString("template"), "<s>", "</s>");
        gemma = new ChatTemplate(cases.getJsonObject("gemma").getString("template"), "<bos>", "<eos>");
        mistral = new ChatTemplate(cases.getJsonObject("mistral").getString("template"), "<s>", "</s>");
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static List<ChatMessage> history(int n) {
        List<ChatMessage> h = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            h.add(new ChatMessage(i % 2 == 0 ? "user" : "assistant", "message number " + i));
        }
        return h;
    }

    /** The seed's rule: the last {@code max} messages (step 1). */
    private static HistoryWindow seedRule(int max) {
        return new HistoryWindow(max, 1);
    }

    private static int tokens(ChatTemplate template, List<ChatMessage> messages) {
        return tokenizer.encode(template.render(messages, true)).length;
    }

    @Test
    void promptIsTheTemplateRenderTokenised() {
        PromptBuilder builder = new PromptBuilder(chatml, tokenizer, seedRule(10));
        Prompt prompt = builder.build("Be kind.", history(2), "I feel anxious.", 16, 4096);
        List<ChatMessage> expected = new ArrayList<>();
        expected.add(new ChatMessage("system", "Be kind."));
        expected.addAll(history(2));
        expected.add(new ChatMessage("user", "I feel anxious."));
        assertArrayEquals(tokenizer.encode(chatml.render(expected, true)), prompt.ids());
        assertEquals(2, prompt.historyMessages());
    }

    @Test
    void keepsOnlyTheContextWindow() {
        PromptBuilder builder = new PromptBuilder(chatml, tokenizer, seedRule(4));
        Prompt prompt = builder.build(null, history(9), "now", 16, 4096);
        // the last 4 of 9 start with an assistant turn (index 5), which is dropped as well
        assertEquals(3, prompt.historyMessages());
        List<ChatMessage> expected = new ArrayList<>(history(9).subList(6, 9));
        expected.add(new ChatMessage("user", "now"));
        assertArrayEquals(tokenizer.encode(chatml.render(expected, true)), prompt.ids());
    }

    /**
     * The seed's bug: a history longer than an odd window, cut before the builder saw it,
     * started with an assistant turn and templates that require alternation refused it. Given the
     * whole history (as InferenceService now passes it), the kept window starts at a user turn.
     */
    @Test
    void aWindowOverAnOddHistoryStartsAtAUserTurnForAlternationTemplates() {
        for (ChatTemplate template : List.of(llama2, mistral)) {
            PromptBuilder builder = new PromptBuilder(template, tokenizer, seedRule(5));
            Prompt prompt = builder.build("Be kind.", history(12), "now", 16, 4096);
            assertEquals(4, prompt.historyMessages());
            List<ChatMessage> expected = new ArrayList<>(history(12).subList(8, 12));
            expected.add(new ChatMessage("user", "now"));
            assertTrue(tokens(template, expected) > 0);
            // the last five alone start with an assistant turn: such templates refuse them
            List<ChatMessage> cut = new ArrayList<>(history(12).subList(7, 12));
            cut.add(new ChatMessage("user", "now"));
            assertThrows(ChatTemplateException.class, () -> template.render(cut, true));
        }
    }

    @Test
    void dropsOldestMessagesFirstToFitTheContext() {
        PromptBuilder builder = new PromptBuilder(chatml, tokenizer, seedRule(10));
        List<ChatMessage> full = new ArrayList<>(history(6));
        full.add(new ChatMessage("user", "now"));
        List<ChatMessage> lastTwoTurns = new ArrayList<>(history(6).subList(2, 6));
        lastTwoTurns.add(new ChatMessage("user", "now"));
        int maxNewTokens = 8;
        int context = tokens(chatml, lastTwoTurns) + maxNewTokens; // fits 4 history messages, not 6
        assertTrue(tokens(chatml, full) + maxNewTokens > context);
        Prompt prompt = builder.build(null, history(6), "now", maxNewTokens, context);
        assertEquals(4, prompt.historyMessages());
        assertTrue(prompt.ids().length + maxNewTokens <= context);
    }

    /**
     * Turns (1-based, from turn 2) whose prompt starts with the whole previous turn's prompt and
     * reply, the prefix the prefix cache reuses: a conversation of {@code turns} turns of equal
     * messages, each prompt built with {@code builder} within {@code maxContext}.
     */
    private static List<Integer> turnsExtendingThePrevious(PromptBuilder builder, int turns, int maxContext) {
        List<ChatMessage> history = new ArrayList<>();
        List<Integer> extending = new ArrayList<>();
        int[] previous = null;
        for (int turn = 1; turn <= turns; turn++) {
            String input = "How do I sleep better?";
            Prompt prompt = builder.build("Be kind.", history, input, 8, maxContext);
            assertTrue(prompt.ids().length + 8 <= maxContext, "turn " + turn + " fits");
            if (previous != null && startsWith(prompt.ids(), previous)) {
                extending.add(turn);
            }
            String reply = "Keep a regular bedtime.";
            history.add(new ChatMessage("user", input));
            history.add(new ChatMessage("assistant", reply));
            // what the slot holds after the turn: its prompt and the reply's tokens
            int[] replyIds = tokenizer.encode(reply);
            previous = java.util.Arrays.copyOf(prompt.ids(), prompt.ids().length + replyIds.length);
            System.arraycopy(replyIds, 0, previous, prompt.ids().length, replyIds.length);
        }
        return extending;
    }

    private static boolean startsWith(int[] ids, int[] prefix) {
        return ids.length >= prefix.length
                && java.util.Arrays.equals(ids, 0, prefix.length, prefix, 0, prefix.length);
    }

    @Test
    void consecutiveTurnsExtendThePreviousPromptUntilTheWindowsStartMoves() {
        // context_window 10, step 6: the start moves before turns 7 and 10 only
        assertEquals(List.of(2, 3, 4, 5, 6, 8, 9, 11, 12),
                turnsExtendingThePrevious(new PromptBuilder(chatml, tokenizer, new HistoryWindow(10, 6)), 12, 4096));
        // the seed's rule moves it every turn once the window is full
        assertEquals(List.of(2, 3, 4, 5, 6),
                turnsExtendingThePrevious(new PromptBuilder(chatml, tokenizer, seedRule(10)), 12, 4096));
    }

    @Test
    void theNextWindowsStartIsGivenExactlyWhereTheStartWillMove() {
        // context_window 10, step 6: the start moves before turns 7 and 10; turn t's nextWindowStart is
        // then, token for token, how turn t + 1's prompt begins (all of it but the new message)
        PromptBuilder builder = new PromptBuilder(chatml, tokenizer, new HistoryWindow(10, 6));
        List<ChatMessage> history = new ArrayList<>();
        List<Integer> ahead = new ArrayList<>();
        List<Integer> aheadBeforeReply = new ArrayList<>();
        int[] expectedStart = null;
        int[] expectedBeforeReply = null;
        for (int turn = 1; turn <= 12; turn++) {
            String input = "How do I sleep better? (" + turn + ")";
            Prompt prompt = builder.build("Be kind.", history, input, 8, 4096);
            if (expectedBeforeReply != null) {
                assertTrue(startsWith(prompt.ids(), expectedBeforeReply), "turn " + turn + " begins as given before the reply");
                assertTrue(startsWith(expectedStart, expectedBeforeReply), "turn " + turn + ": the reply extends it");
            }
            if (expectedStart != null) {
                assertTrue(startsWith(prompt.ids(), expectedStart), "turn " + turn + " begins as given ahead");
                int left = prompt.ids().length - expectedStart.length;
                int turnOfItsOwn = tokenizer.encode("<|im_start|>user\n" + input + "<|im_end|>\n<|im_start|>assistant\n")
                        .length;
                assertTrue(left <= turnOfItsOwn, "turn " + turn + ": " + left
                        + " tokens left of " + prompt.ids().length + ": only its own message's turn");
            }
            expectedBeforeReply = builder.nextWindowStartBeforeReply("Be kind.", history, input,
                    prompt.historyMessages()).orElse(null);
            if (expectedBeforeReply != null) {
                aheadBeforeReply.add(turn + 1);
            }
            String reply = "Keep a regular bedtime. (" + turn + ")";
            expectedStart = builder.nextWindowStart("Be kind.", history, input, reply, prompt.historyMessages())
                    .orElse(null);
            if (expectedStart != null) {
                ahead.add(turn + 1);
            }
            history.add(new ChatMessage("user", input));
            history.add(new ChatMessage("assistant", reply));
        }
        assertEquals(List.of(7, 10, 13), ahead, "given ahead of the turns whose start moves, and only those");
        assertEquals(ahead, aheadBeforeReply, "before the reply too");
    }

    @Test
    void aConversationHeldBackByTheContextMovesItsStartInWholeStepsToo() {
        List<ChatMessage> fourTurns = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fourTurns.add(new ChatMessage("user", "How do I sleep better?"));
            fourTurns.add(new ChatMessage("assistant", "Keep a regular bedtime."));
        }
        // room for the system prompt, 8 history messages and the input, not 10: the window (20) never binds
        List<ChatMessage> messages = new ArrayList<>();
        messages.add(new ChatMessage("system", "Be kind."));
        messages.addAll(fourTurns);
        messages.add(new ChatMessage("user", "How do I sleep better?"));
        int context = tokens(chatml, messages) + 8;

        // step 4: the start moves every other turn once the context is full (turns 6, 8, 10, 12)
        assertEquals(List.of(2, 3, 4, 5, 7, 9, 11),
                turnsExtendingThePrevious(new PromptBuilder(chatml, tokenizer, new HistoryWindow(20, 4)), 12, context));
        // one message at a time, as the seed's rule did: a new start every turn
        assertEquals(List.of(2, 3, 4, 5),
                turnsExtendingThePrevious(new PromptBuilder(chatml, tokenizer, seedRule(20)), 12, context));
    }

    @Test
    void trimmedHistoryStartsWithAUserTurnSoAlternatingTemplatesAccept() {
        PromptBuilder builder = new PromptBuilder(llama2, tokenizer, seedRule(3));
        Prompt prompt = builder.build(null, history(4), "now", 8, 4096);
        assertEquals(2, prompt.historyMessages());
    }

    @Test
    void userInputThatCannotFitIsAnError() {
        PromptBuilder builder = new PromptBuilder(chatml, tokenizer, seedRule(10));
        String longInput = "word ".repeat(500);
        PromptTooLongException e = assertThrows(PromptTooLongException.class,
                () -> builder.build("sys", history(4), longInput, 16, 256));
        assertTrue(e.getMessage().contains("256"), e.getMessage());
    }

    @Test
    void maxNewTokensAtTheContextIsAnError() {
        PromptBuilder builder = new PromptBuilder(chatml, tokenizer, seedRule(10));
        assertThrows(PromptTooLongException.class, () -> builder.build(null, List.of(), "hi", 64, 64));
    }

    @Test
    void systemPromptGoesIntoTheFirstUserTurnWhenTheTemplateRefusesSystem() {
        PromptBuilder builder = new PromptBuilder(gemma, tokenizer, seedRule(10));
        Prompt prompt = builder.build("Be kind.", List.of(), "hello", 8, 4096);
        assertArrayEquals(tokenizer.encode(gemma.render(List.of(new ChatMessage("user", "Be kind.\n\nhello")), true)),
                prompt.ids());
    }

    @Test
    void templateRefusalOtherwiseSurfaces() {
        PromptBuilder builder = new PromptBuilder(llama2, tokenizer, seedRule(10));
        List<ChatMessage> bad = List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b"));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> builder.build(null, bad, "c", 8, 4096));
        assertTrue(e.raisedByTemplate());
    }
}
