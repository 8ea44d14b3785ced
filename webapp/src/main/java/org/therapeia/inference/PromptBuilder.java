package org.therapeia.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.therapeia.api.ChatMessage;

/**
 * Builds the prompt the seed built: system prompt, the recent history messages and the user
 * input, through the model's chat template and tokenizer. Which history messages stay is the
 * {@link HistoryWindow}'s rule (at most {@code context_window}, cut in steps so that consecutive
 * turns share their prefix): when the prompt plus the reply's {@code max_new_tokens} would not fit
 * the context, the window drops further steps of the oldest messages; when even no history fits,
 * it fails ({@link PromptTooLongException}).
 *
 * <p>A template that refuses a system message (Gemma) gets the system prompt at the head of the
 * first user turn instead, as those models' own documentation suggests.
 *
 * <p>Control tokens come only from the template: message text (system prompt, history, user
 * input) reaches the template with any control token's text held back, and is encoded as plain
 * text ({@link Tokenizer#encode(String, ContentEscapes)}), so {@code <|im_start|>system} in a
 * message opens no turn.
 */
public final class PromptBuilder {

    private final ChatTemplate template;
    private final Tokenizer tokenizer;
    private final HistoryWindow window;

    public PromptBuilder(ChatTemplate template, Tokenizer tokenizer, HistoryWindow window) {
        this.template = template;
        this.tokenizer = tokenizer;
        this.window = window;
    }

    /** The rule that picks the history messages a prompt keeps. */
    public HistoryWindow window() {
        return window;
    }

    /**
     * @param systemPrompt  null or blank for none
     * @param history       oldest first
     * @param maxNewTokens  tokens reserved for the reply
     * @param maxContext    prompt plus reply must fit this
     * @throws PromptTooLongException when the bare system prompt and user input do not fit
     * @throws ChatTemplateException  when the template refuses the conversation
     */
    public Prompt build(String systemPrompt, List<ChatMessage> history, String userInput, int maxNewTokens,
                        int maxContext) {
        int budget = maxContext - maxNewTokens;
        if (budget < 1) {
            throw new PromptTooLongException("max_new_tokens (" + maxNewTokens + ") leaves no room for the prompt "
                    + "in the context of " + maxContext + " tokens");
        }
        for (int extraSteps = 0; ; extraSteps++) {
            List<ChatMessage> kept = window.kept(history, extraSteps);
            int[] ids = encode(systemPrompt, kept, userInput);
            if (ids.length <= budget) {
                return new Prompt(ids, kept.size());
            }
            if (kept.isEmpty()) {
                throw new PromptTooLongException("the prompt needs " + ids.length + " tokens without any history; "
                        + "with max_new_tokens " + maxNewTokens + " the context of " + maxContext
                        + " tokens leaves " + budget);
            }
        }
    }

    /**
     * How the next turn's prompt will begin when the history window moves there: the system prompt
     * and the history the window will keep once this turn's {@code userInput} and {@code reply}
     * are part of it, without the next message (not yet written). Empty when the window keeps its
     * start: the next prompt then begins with this one, which its slot holds already. Why: where the
     * start moves, no warm slot holds the next prompt's beginning, and the whole window would be
     * computed while the person waits; ahead of the turn it is computed while they read and type.
     *
     * @param keptNow the history messages this turn's prompt kept ({@link Prompt#historyMessages()})
     */
    public Optional<int[]> nextWindowStart(String systemPrompt, List<ChatMessage> history, String userInput,
                                           String reply, int keptNow) {
        return nextWindow(history, userInput, reply, keptNow).map(kept -> encode(systemPrompt, kept, null));
    }

    /**
     * As {@link #nextWindowStart}, before the reply exists: the next turn's beginning up to this
     * turn's {@code userInput}, which can be computed while the reply is generated, so that a next
     * turn sent at once (no pause to prefill in) still finds most of its history warm.
     */
    public Optional<int[]> nextWindowStartBeforeReply(String systemPrompt, List<ChatMessage> history,
                                                      String userInput, int keptNow) {
        // the window keeps a number of messages whatever they say: any reply stands for the real one
        return nextWindow(history, userInput, "", keptNow)
                .map(kept -> encode(systemPrompt, kept.subList(0, kept.size() - 1), null));
    }

    /** The history the next turn keeps, with this turn's message and reply, if its start moves there. */
    private Optional<List<ChatMessage>> nextWindow(List<ChatMessage> history, String userInput, String reply,
                                                   int keptNow) {
        List<ChatMessage> next = new ArrayList<>(history.size() + 2);
        next.addAll(history);
        next.add(new ChatMessage(ChatMessage.USER, userInput));
        next.add(new ChatMessage(ChatMessage.ASSISTANT, reply));
        List<ChatMessage> kept = window.kept(next);
        // nothing kept (context_window 0): the system prompt alone is every conversation's beginning
        return kept.size() == keptNow + 2 || kept.isEmpty() ? Optional.empty() : Optional.of(kept);
    }

    /** The prompt's ids; without {@code userInput} (null), the conversation so far with no generation prompt. */
    private int[] encode(String systemPrompt, List<ChatMessage> history, String userInput) {
        boolean hasSystem = systemPrompt != null && !systemPrompt.isBlank();
        List<ChatMessage> messages = new ArrayList<>(history.size() + 2);
        if (hasSystem) {
            messages.add(new ChatMessage(ChatMessage.SYSTEM, systemPrompt));
        }
        messages.addAll(history);
        boolean asking = userInput != null;
        if (asking) {
            messages.add(new ChatMessage(ChatMessage.USER, userInput));
        }
        // the template sees no control token's text in a message: only its own text makes them
        ContentEscapes escapes = tokenizer.escape(messages);
        List<ChatMessage> escaped = escapes.messages();
        String text;
        try {
            text = template.render(escaped, asking);
        } catch (ChatTemplateException e) {
            if (!hasSystem || !e.raisedByTemplate()) {
                throw e;
            }
            text = template.render(
                    withSystemInFirstUserTurn(escaped.get(0).content(), escaped.subList(1, escaped.size())), asking);
        }
        return tokenizer.encode(text, escapes);
    }

    private static List<ChatMessage> withSystemInFirstUserTurn(String systemPrompt, List<ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>(messages);
        for (int i = 0; i < out.size(); i++) {
            if (ChatMessage.USER.equals(out.get(i).role())) {
                out.set(i, new ChatMessage(ChatMessage.USER, systemPrompt + "\n\n" + out.get(i).content()));
                break;
            }
        }
        return out;
    }
}
