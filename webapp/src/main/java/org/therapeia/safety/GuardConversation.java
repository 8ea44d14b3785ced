package org.therapeia.safety;

import java.util.ArrayList;
import java.util.List;
import org.therapeia.api.ChatMessage;

/**
 * The conversation a guard model reads: the request's recent user and assistant turns and the
 * person's new message last. Both families' templates take alternating user and assistant turns
 * starting with a user one (the Llama Guard template raises an error otherwise) and assess the
 * last turn, so system prompts are left out (they are the operator's, not the person's), adjacent
 * turns of one role are joined, and a leading assistant turn is dropped.
 */
final class GuardConversation {

    private GuardConversation() {
    }

    /**
     * @param history oldest first, as the request gave it
     * @param turns   history messages kept at most (the most recent)
     */
    static List<ChatMessage> of(List<ChatMessage> history, String message, int turns) {
        List<ChatMessage> said = new ArrayList<>();
        for (ChatMessage m : history) {
            if (ChatMessage.USER.equals(m.role()) || ChatMessage.ASSISTANT.equals(m.role())) {
                said.add(m);
            }
        }
        List<ChatMessage> recent = new ArrayList<>(said.subList(Math.max(0, said.size() - turns), said.size()));
        recent.add(new ChatMessage(ChatMessage.USER, message));
        List<ChatMessage> out = new ArrayList<>();
        for (ChatMessage m : recent) {
            if (out.isEmpty() && !ChatMessage.USER.equals(m.role())) {
                continue;
            }
            ChatMessage last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.role().equals(m.role())) {
                out.set(out.size() - 1, new ChatMessage(m.role(), last.content() + "\n\n" + m.content()));
            } else {
                out.add(m);
            }
        }
        return out;
    }
}
