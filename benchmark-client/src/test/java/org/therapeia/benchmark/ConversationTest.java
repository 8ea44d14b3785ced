package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** One conversation's turns: the messages it sends and the history that grows with the replies. */
class ConversationTest {

    private static final List<String> MESSAGES = List.of("m0", "m1", "m2", "m3", "m4");

    @Test
    void theHistoryGrowsWithEveryMessageAndReply() {
        Conversation c = new Conversation(1, MESSAGES, "system");
        RequestInput first = c.nextTurn();
        assertEquals("m1", first.userInput(), "conversation 1 opens with the second opening");
        assertEquals(List.of(), first.history());
        assertEquals("system", first.systemPrompt());
        assertEquals(0.0, first.temperature(), "greedy");
        c.answered(first, "r1");

        RequestInput second = c.nextTurn();
        assertEquals("m2", second.userInput());
        assertEquals(List.of(ChatTurn.user("m1"), ChatTurn.assistant("r1")), second.history());
        c.answered(second, "r2");

        RequestInput third = c.nextTurn();
        assertEquals("m3", third.userInput());
        assertEquals(List.of(ChatTurn.user("m1"), ChatTurn.assistant("r1"), ChatTurn.user("m2"),
                ChatTurn.assistant("r2")), third.history());
        assertEquals("system", third.systemPrompt(), "every turn resends the system prompt");
        assertEquals(2, c.turnsTaken());
        assertEquals(third.history(), c.history());
    }

    @Test
    void aSentTurnDoesNotChangeWithTheHistoryAfterIt() {
        Conversation c = new Conversation(0, MESSAGES, "system");
        RequestInput first = c.nextTurn();
        c.answered(first, "r");
        assertEquals(List.of(), first.history(), "what was sent stays as it was sent");
    }

    @Test
    void theMessagesAreThoseThePythonScriptChooses() {
        // bench/conversation_benchmark.py: USER_MESSAGES[index % 3] first, then [(index + turn) % len]
        assertEquals(0, Conversation.messageIndex(3, 0, 12));
        assertEquals(2, Conversation.messageIndex(5, 0, 12));
        assertEquals(8, Conversation.messageIndex(5, 3, 12));
        assertEquals(1, Conversation.messageIndex(11, 2, 12), "wraps around the list");
        assertEquals(0, Conversation.messageIndex(4, 0, 1), "a list shorter than the openings");
    }

    @Test
    void conversationsShareOpeningsAndThenPartWays() {
        Conversation a = new Conversation(0);
        Conversation b = new Conversation(3);
        RequestInput aFirst = a.nextTurn();
        RequestInput bFirst = b.nextTurn();
        assertEquals(aFirst.userInput(), bFirst.userInput(), "conversations 0 and 3 open alike");
        assertEquals(TherapeuticMessages.SYSTEM_PROMPT, aFirst.systemPrompt());
        assertEquals(3, bFirst.contextIndex(), "the conversation's number");
        a.answered(aFirst, "r");
        b.answered(bFirst, "r");
        assertNotEquals(a.nextTurn().userInput(), b.nextTurn().userInput());
        assertTrue(TherapeuticMessages.MESSAGES.contains(a.nextTurn().userInput()));
    }
}
