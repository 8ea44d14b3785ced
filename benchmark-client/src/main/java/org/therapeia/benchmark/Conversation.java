package org.therapeia.benchmark;

import java.util.ArrayList;
import java.util.List;

/**
 * One conversation of a conversation run, turn by turn: each turn sends the system prompt, the
 * whole history so far and the next user message, and the model's real reply joins the history,
 * so every prompt extends the previous one (what the service's prefix cache can reuse). Greedy
 * (temperature 0): the same run against another deployment computes the same replies.
 *
 * <p>The user messages are those of bench/conversation_benchmark.py's choice: conversation
 * {@code c} opens with message {@code c mod 3} (so that some conversations share their first
 * turn, as people's first messages resemble each other) and then walks the message list from
 * {@code c + t}. Not thread-safe: one conversation is carried on by one thread at a time.
 */
final class Conversation {

    /** How many distinct first messages the conversations open with. */
    static final int OPENINGS = 3;

    private final int number;
    private final List<String> messages;
    private final String systemPrompt;
    private final List<ChatTurn> history = new ArrayList<>();
    private int turnsTaken;

    /** Conversation {@code number} over {@link TherapeuticMessages}. */
    Conversation(int number) {
        this(number, TherapeuticMessages.MESSAGES, TherapeuticMessages.SYSTEM_PROMPT);
    }

    Conversation(int number, List<String> messages, String systemPrompt) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("need at least one message");
        }
        this.number = number;
        this.messages = List.copyOf(messages);
        this.systemPrompt = systemPrompt;
    }

    /** The index of the user message of turn {@code turn} (from 0) of conversation {@code number}. */
    static int messageIndex(int number, int turn, int messageCount) {
        return turn == 0 ? number % Math.min(OPENINGS, messageCount) : (number + turn) % messageCount;
    }

    /** What the next turn sends. */
    RequestInput nextTurn() {
        int message = messageIndex(number, turnsTaken, messages.size());
        return new RequestInput(message, number, messages.get(message), history, systemPrompt, 0.0);
    }

    /** The turn {@code sent} was answered with {@code reply}: both join the history. */
    void answered(RequestInput sent, String reply) {
        history.add(ChatTurn.user(sent.userInput()));
        history.add(ChatTurn.assistant(reply));
        turnsTaken++;
    }

    int number() {
        return number;
    }

    /** Turns answered so far. */
    int turnsTaken() {
        return turnsTaken;
    }

    List<ChatTurn> history() {
        return List.copyOf(history);
    }
}
