package org.therapeia.benchmark;

/** One earlier turn of a conversation, as the service's {@code conversation_history} takes it. */
public record ChatTurn(String role, String content) {

    public static ChatTurn user(String content) {
        return new ChatTurn("user", content);
    }

    public static ChatTurn assistant(String content) {
        return new ChatTurn("assistant", content);
    }
}
