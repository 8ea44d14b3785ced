package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules and a guard decide together: the higher level wins. */
class AssessmentWithGuardTest {

    private static final Assessment RULES_HIGH = new Assessment(Level.HIGH, List.of(Category.SUICIDE),
            Set.of(AtRisk.SELF), false, false, false, false);
    private static final Assessment RULES_DISTRESS = new Assessment(Level.DISTRESS, List.of(Category.DISTRESS),
            Set.of(AtRisk.SELF), true, false, true, false);

    @Test
    void aLowerOrSafeVerdictLeavesTheRulesAssessment() {
        assertSame(RULES_HIGH, RULES_HIGH.withGuard(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE))));
        assertSame(RULES_HIGH, RULES_HIGH.withGuard(GuardVerdict.SAFE));
        assertSame(RULES_DISTRESS, RULES_DISTRESS.withGuard(GuardVerdict.SAFE));
    }

    @Test
    void aHigherVerdictWinsWithItsCategories() {
        Assessment a = RULES_DISTRESS.withGuard(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE)));
        assertEquals(Level.RISK, a.level());
        assertEquals(List.of(Category.SUICIDE), a.categories());
        assertEquals(Set.of(AtRisk.SELF), a.atRisk());
        assertFalse(a.fromHistory(), "the guard read this conversation");
        assertFalse(a.detectorFailed());
    }

    @Test
    void aFailSafeLevelIsRaisedByAHigherVerdictOnly() {
        Assessment failSafe = Assessment.failSafe();
        assertSame(failSafe, failSafe.withGuard(new GuardVerdict(Level.DISTRESS, List.of(Category.HARM_TO_OTHERS))));
        Assessment equal = failSafe.withGuard(new GuardVerdict(Level.RISK, List.of(Category.HARM_TO_OTHERS)));
        assertEquals(Level.RISK, equal.level());
        assertEquals(List.of(Category.HARM_TO_OTHERS), equal.categories());
    }

    @Test
    void anEqualVerdictAddsItsCategories() {
        Assessment rules = new Assessment(Level.RISK, List.of(Category.ABUSE), Set.of(), false, false, false, false);
        Assessment a = rules.withGuard(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE, Category.ABUSE)));
        assertEquals(List.of(Category.ABUSE, Category.SUICIDE), a.categories());
        assertEquals(Level.RISK, a.level());
    }
}
