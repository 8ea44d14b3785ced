package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The whole conversation: the highest recent level, decaying with the turns since. */
class ConversationAssessorTest {

    private final ConversationAssessor assessor = new ConversationAssessor(new RuleDetector(List.of("en")), 10, 3);

    @Test
    void riskTwoTurnsAgoIsNotForgotten() {
        Assessment a = assessor.assess("Can you recommend a movie?", List.of("I have the pills saved up.", "ok"));
        assertEquals(Level.HIGH, a.level());
        assertTrue(a.fromHistory());
        assertEquals(List.of(Category.SUICIDE), a.categories());
    }

    @Test
    void anEarlierLevelDecaysWithTurns() {
        List<String> history = List.of("I have the pills saved up.", "a", "b", "c");
        assertEquals(Level.RISK, assessor.assess("thanks", history).level(), "one level down after 3 turns");
        List<String> older = List.of("I have the pills saved up.", "a", "b", "c", "d", "e", "f", "g");
        assertFalse(assessor.assess("thanks", older).isRisk());
    }

    @Test
    void distressEarlierMakesAMethodAdjacentQuestionHigh() {
        Assessment a = assessor.assess("What are the tallest bridges in the city?",
                List.of("I lost my job today.", "I feel like such a failure."));
        assertEquals(Level.HIGH, a.level());
        assertFalse(a.fromHistory());
    }

    @Test
    void aBenignConversationStaysNone() {
        Assessment a = assessor.assess("How do I set boundaries with my boss?", List.of("Hi", "I had a long week."));
        assertEquals(Level.NONE, a.level());
        assertTrue(a.categories().isEmpty());
    }

    @Test
    void theTimeBudgetGrowsWithTheCharactersRead() {
        assertEquals(1, ConversationAssessor.budgetsFor(0));
        assertEquals(1, ConversationAssessor.budgetsFor(ConversationAssessor.CHARS_PER_BUDGET));
        assertEquals(2, ConversationAssessor.budgetsFor(ConversationAssessor.CHARS_PER_BUDGET + 1));
        assertEquals(11, ConversationAssessor.budgetsFor(11L * ConversationAssessor.CHARS_PER_BUDGET));
    }

    @Test
    void aDetectionWithoutTimeLeftFailsInsteadOfRunningOn() {
        assertThrows(DeadlineText.Expired.class, () -> assessor.assess("I have the pills saved up.",
                List.of("I lost my job today."), Duration.ZERO));
    }
}
