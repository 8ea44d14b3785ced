package org.therapeia.safety;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the safety layer concluded about one request: the conversation's level and what it is
 * about. It carries no text.
 *
 * @param level      the request's level: its own message's, or a recent earlier message's,
 *                   decayed by the turns since (whichever is higher)
 * @param categories what the signals at that level are about (distress alone when nothing else)
 * @param atRisk     who is at risk, as the signals at that level say
 * @param negated    the request's message negated a signal ("I'm not suicidal")
 * @param past       the request's message put a signal in the remote past
 * @param fromHistory the level comes from an earlier message rather than this one
 * @param detectorFailed detection failed: the level is the fail-safe one
 */
public record Assessment(Level level, List<Category> categories, Set<AtRisk> atRisk, boolean negated, boolean past,
                         boolean fromHistory, boolean detectorFailed) {

    public Assessment {
        categories = List.copyOf(categories);
        atRisk = Set.copyOf(atRisk);
    }

    /** The fail-safe assessment when detection fails: risk, so no cache and resources appended. */
    public static Assessment failSafe() {
        return new Assessment(Level.RISK, List.of(), Set.of(), false, false, false, true);
    }

    /**
     * This assessment (the rules') decided together with a guard model's verdict: the higher level
     * wins. At equal levels the guard's categories join these; a higher guard level brings its own
     * categories and is no longer a fail-safe or historical one (the guard read this conversation).
     * Who is at risk, negation and past stay the rules' reading: the guard says nothing of them.
     */
    public Assessment withGuard(GuardVerdict guard) {
        int order = guard.level().compareTo(level);
        if (guard.level() == Level.NONE || order < 0) {
            return this;
        }
        if (order == 0) {
            LinkedHashSet<Category> both = new LinkedHashSet<>(categories);
            both.addAll(guard.categories());
            return new Assessment(level, List.copyOf(both), atRisk, negated, past, fromHistory, detectorFailed);
        }
        return new Assessment(guard.level(), guard.categories(), atRisk, negated, past, false, false);
    }

    /** Level 2 or more: no cache, crisis resources, the safe-messaging addendum, the output check. */
    public boolean isRisk() {
        return level.atLeast(Level.RISK);
    }
}
