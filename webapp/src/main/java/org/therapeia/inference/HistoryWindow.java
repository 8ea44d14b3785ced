package org.therapeia.inference;

import java.util.List;
import org.therapeia.api.ChatMessage;

/**
 * Which history messages a prompt keeps: at most {@code context_window} of the most recent, cut
 * at a start that moves in steps of {@code context_window.step} messages.
 *
 * <p>Why steps: the prefix cache reuses a warm slot's KV only up to the first token where the new
 * prompt differs from the previous one. Keeping exactly the last {@code context_window} messages (the
 * seed's rule, step 1) moves the start by one pair every turn once the window is full, so each
 * prompt differs from the last right after the system prompt and the whole history is computed
 * again. Here the cut is the smallest multiple of the step that leaves at most
 * {@code context_window} messages: a function of the history's length alone, which stays put for
 * {@code step / 2} turns of a conversation (each turn adds a user and an assistant message) and
 * then jumps by {@code step} messages at once. Between jumps a turn's prompt extends the previous
 * turn's, and only the new messages are computed. The price: the prompt keeps between
 * {@code context_window - step + 1} and {@code context_window} messages instead of always
 * {@code context_window}.
 *
 * <p>When the prompt is still too long for the context, the cut moves on by whole steps too (see
 * {@link #kept(List, int)}), so a conversation held back by the token budget keeps a stable start
 * as well. A cut lands on a user turn (assistant messages at the start are skipped): templates
 * such as Llama 2's, Mistral's and Gemma's require the conversation to start with a user turn. The
 * system prompt is not history and is never cut.
 */
public final class HistoryWindow {

    private final int maxMessages;
    private final int step;

    /**
     * @param maxMessages {@code context_window}: the most history messages kept, 0 or more
     * @param step        {@code context_window.step}: messages the cut moves by, at least 1; one
     *                    above {@code maxMessages} acts as {@code maxMessages}, so a full window
     *                    never empties by more than itself
     */
    public HistoryWindow(int maxMessages, int step) {
        if (maxMessages < 0 || step < 1) {
            throw new IllegalArgumentException("maxMessages " + maxMessages + " (0 or more), step " + step
                    + " (at least 1)");
        }
        this.maxMessages = maxMessages;
        this.step = Math.max(1, Math.min(step, maxMessages));
    }

    /** The history messages a prompt keeps while it fits: the most recent, at most {@code context_window}. */
    public List<ChatMessage> kept(List<ChatMessage> history) {
        return kept(history, 0);
    }

    /**
     * The history messages a prompt keeps after {@code extraSteps} more steps were dropped because
     * the prompt did not fit the context; empty once nothing is left to drop.
     *
     * @param history oldest first
     */
    public List<ChatMessage> kept(List<ChatMessage> history, int extraSteps) {
        int size = history.size();
        int overflow = Math.max(0, size - maxMessages);
        long cut = ((long) ceilDiv(overflow, step) + extraSteps) * step;
        if (cut == 0) {
            return history;
        }
        int first = (int) Math.min(cut, size);
        while (first < size && !ChatMessage.USER.equals(history.get(first).role())) {
            first++;
        }
        return history.subList(first, size);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
