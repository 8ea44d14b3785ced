package org.therapeia.benchmark;

import java.util.List;

/**
 * What one request sends: a message and the conversation before it.
 *
 * @param messageIndex index into {@link TherapeuticMessages#MESSAGES}
 * @param contextIndex index into {@link TherapeuticMessages#CONTEXTS}
 */
public record RequestInput(int messageIndex, int contextIndex, String userInput, List<ChatTurn> history) {

    public RequestInput {
        history = List.copyOf(history);
    }

    /** Requests with the same key are identical, so the second one can be a cache hit. */
    public String key() {
        return messageIndex + "/" + contextIndex;
    }
}
