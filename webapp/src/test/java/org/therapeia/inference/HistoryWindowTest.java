package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.therapeia.api.ChatMessage;

class HistoryWindowTest {

    /** A conversation's history before its turn {@code turn} (1-based): user, assistant, ... */
    private static List<ChatMessage> beforeTurn(int turn) {
        return alternating(2 * (turn - 1));
    }

    private static List<ChatMessage> alternating(int n) {
        List<ChatMessage> h = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            h.add(new ChatMessage(i % 2 == 0 ? ChatMessage.USER : ChatMessage.ASSISTANT, "message " + i));
        }
        return h;
    }

    /** Index of the first history message kept. */
    private static int start(HistoryWindow window, List<ChatMessage> history) {
        return history.size() - window.kept(history).size();
    }

    private static List<Integer> startsOverTurns(HistoryWindow window, int turns) {
        List<Integer> starts = new ArrayList<>();
        for (int turn = 1; turn <= turns; turn++) {
            starts.add(start(window, beforeTurn(turn)));
        }
        return starts;
    }

    @Test
    void theStartStaysPutForSeveralTurnsThenMovesByAWholeStep() {
        // context_window 10, step 6: turns 1-6 keep everything, then the start jumps every 3 turns
        assertEquals(List.of(0, 0, 0, 0, 0, 0, 6, 6, 6, 12, 12, 12, 18, 18, 18),
                startsOverTurns(new HistoryWindow(10, 6), 15));
    }

    @Test
    void stepOneIsTheSeedsRuleWhoseStartMovesEveryTurn() {
        assertEquals(List.of(0, 0, 0, 0, 0, 0, 2, 4, 6, 8, 10, 12),
                startsOverTurns(new HistoryWindow(10, 1), 12));
    }

    @Test
    void neverMoreThanTheWindowNorFewerThanTheWindowLessTheStepPlusOne() {
        for (int max = 0; max <= 12; max++) {
            for (int step = 1; step <= 14; step++) {
                HistoryWindow window = new HistoryWindow(max, step);
                int effectiveStep = Math.max(1, Math.min(step, max));
                for (int n = 0; n <= 40; n++) {
                    List<ChatMessage> history = alternating(n);
                    int kept = window.kept(history).size();
                    String at = "window " + max + ", step " + step + ", history " + n;
                    assertTrue(kept <= max, at + ": kept " + kept);
                    // the least: context_window - step + 1, less one assistant message skipped at the cut
                    assertTrue(kept >= Math.min(n, max - effectiveStep + 1) - 1, at + ": kept " + kept);
                }
            }
        }
    }

    @Test
    void theKeptHistoryStartsAtAUserTurnEvenWithAnOddStep() {
        HistoryWindow window = new HistoryWindow(10, 3);
        for (int n = 11; n <= 40; n++) {
            List<ChatMessage> kept = window.kept(alternating(n));
            assertEquals(ChatMessage.USER, kept.get(0).role(), "history of " + n);
        }
        // assistant messages 5, 6 and 7 in a row at the cut (5): all are skipped
        List<ChatMessage> history = new ArrayList<>(alternating(12));
        history.set(5, new ChatMessage(ChatMessage.ASSISTANT, "again"));
        history.set(6, new ChatMessage(ChatMessage.ASSISTANT, "and again"));
        assertEquals(history.subList(8, 12), new HistoryWindow(10, 5).kept(history));
    }

    @Test
    void aHistoryWithinTheWindowIsKeptAsItIs() {
        List<ChatMessage> startsWithAssistant = alternating(5).subList(1, 5);
        assertSame(startsWithAssistant, new HistoryWindow(10, 6).kept(startsWithAssistant),
                "nothing cut: the client's own history, whatever its first role");
    }

    @Test
    void extraStepsForTheTokenBudgetDropWholeStepsUntilNothingIsLeft() {
        HistoryWindow window = new HistoryWindow(10, 4);
        List<ChatMessage> history = alternating(12); // the window alone cuts at 4
        assertEquals(history.subList(4, 12), window.kept(history, 0));
        assertEquals(history.subList(8, 12), window.kept(history, 1));
        assertEquals(List.of(), window.kept(history, 2));
        assertEquals(List.of(), window.kept(history, 3));
    }

    @Test
    void aStepAboveTheWindowActsAsTheWindowSoAFullWindowNeverEmpties() {
        HistoryWindow window = new HistoryWindow(4, 6);
        assertEquals(List.of(0, 0, 0, 4, 4, 8, 8), startsOverTurns(window, 7));
        for (int n = 1; n <= 30; n++) {
            assertFalse(window.kept(alternating(n)).isEmpty(), "history of " + n);
        }
    }

    @Test
    void aWindowOfZeroKeepsNoHistory() {
        HistoryWindow window = new HistoryWindow(0, 6);
        assertEquals(List.of(), window.kept(alternating(0)));
        assertEquals(List.of(), window.kept(alternating(7)));
    }

    @Test
    void refusesANegativeWindowOrAStepBelowOne() {
        assertThrows(IllegalArgumentException.class, () -> new HistoryWindow(-1, 6));
        assertThrows(IllegalArgumentException.class, () -> new HistoryWindow(10, 0));
    }
}
