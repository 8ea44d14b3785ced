package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The conversation run without HTTP: a sender that answers each turn by its history's length. */
class ConversationRunnerTest {

    private static final long MS = 1_000_000L;

    private static Progress quiet() {
        return new Progress(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 1000, false);
    }

    @Test
    void everyTurnCarriesTheRepliesBeforeIt() throws InterruptedException {
        Map<Integer, List<ChatTurn>> lastHistory = new ConcurrentHashMap<>();
        ConversationRunner.RunResult run = ConversationRunner.run(5, 4, 3, input -> {
            lastHistory.put(input.contextIndex(), input.history());
            int turn = input.history().size() / 2 + 1;
            return RequestOutcome.success(10 * MS, false, 5, 0, 0)
                    .withReply("reply " + input.contextIndex() + "." + turn, 10 * turn, 10 * (turn - 1), 0.001);
        }, quiet());

        assertEquals(20, run.turns().size());
        assertEquals(0, run.notSent());
        for (int c = 0; c < 5; c++) {
            List<ChatTurn> history = lastHistory.get(c);
            assertEquals(6, history.size(), "the 4th turn carries 3 exchanges");
            assertEquals(ChatTurn.assistant("reply " + c + ".3"), history.get(5));
            assertEquals(ChatTurn.assistant("reply " + c + ".1"), history.get(1));
        }
        ConversationRunner.TurnOutcome first = run.turns().get(0);
        assertEquals(0, first.conversation());
        assertEquals(1, first.turn());
        assertEquals(4, run.turns().get(3).turn(), "ordered by conversation, then turn");
    }

    @Test
    void aFailedTurnEndsItsConversation() throws InterruptedException {
        ConversationRunner.RunResult run = ConversationRunner.run(3, 5, 2, input -> {
            int turn = input.history().size() / 2 + 1;
            if (input.contextIndex() == 1 && turn == 2) {
                return RequestOutcome.httpError(503, MS);
            }
            return RequestOutcome.success(MS, false, 5, 0, 0).withReply("r", 1, 0, 0);
        }, quiet());

        assertEquals(3, run.notSent(), "turns 3 to 5 of conversation 1");
        assertEquals(12, run.turns().size());
        assertTrue(run.turns().stream().filter(t -> t.conversation() == 1).allMatch(t -> t.turn() <= 2));
        assertEquals("503", run.turns().stream().filter(t -> !t.outcome().success()).findFirst().orElseThrow()
                .outcome().errorKey());
    }

    @Test
    void aReplyWithoutTextCannotBeCarriedOn() throws InterruptedException {
        ConversationRunner.RunResult run = ConversationRunner.run(1, 3, 1,
                input -> RequestOutcome.success(MS, false, 5, 0, 0), quiet());
        assertEquals(1, run.turns().size());
        assertEquals(RequestOutcome.INVALID_RESPONSE, run.turns().get(0).outcome().errorKey());
        assertEquals(2, run.notSent());
    }
}
