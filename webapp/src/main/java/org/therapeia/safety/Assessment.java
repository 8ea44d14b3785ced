package org.therapeia.safety;

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

    /** Level 2 or more: no cache, crisis resources, the safe-messaging addendum, the output check. */
    public boolean isRisk() {
        return level.atLeast(Level.RISK);
    }
}
