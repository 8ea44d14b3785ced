package org.therapeia.benchmark;

import java.util.List;

/**
 * What one request sends: a message and the conversation before it.
 *
 * @param messageIndex index into {@link TherapeuticMessages#MESSAGES}
 * @param contextIndex index into {@link TherapeuticMessages#CONTEXTS}; for a turn of a conversation
 *                     run ({@link Conversation}), the conversation's number
 * @param systemPrompt the request's system prompt; null = the service's own
 * @param temperature  the request's temperature; null = the service's default (a conversation run
 *                     sends 0, greedy, so that two runs compute the same replies)
 */
public record RequestInput(int messageIndex, int contextIndex, String userInput, List<ChatTurn> history,
        String systemPrompt, Double temperature) {

    public RequestInput {
        history = List.copyOf(history);
    }

    /** A request with the service's system prompt and temperature. */
    public RequestInput(int messageIndex, int contextIndex, String userInput, List<ChatTurn> history) {
        this(messageIndex, contextIndex, userInput, history, null, null);
    }

    /** Requests with the same key are identical, so the second one can be a cache hit. */
    public String key() {
        return messageIndex + "/" + contextIndex;
    }
}
