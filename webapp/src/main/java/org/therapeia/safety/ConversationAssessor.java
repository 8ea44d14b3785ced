package org.therapeia.safety;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Grades a request by its own message and the person's earlier messages in the conversation the
 * request carries, so that risk expressed two turns ago is not forgotten on the next turn. An
 * earlier message counts at its level minus one for every {@code decayTurns} turns since it
 * (the highest recent level, decaying). Nothing is stored: the request's own history is read
 * again each time.
 */
public final class ConversationAssessor {

    /** The characters read for each detector time budget: {@code limits.message-chars}' default. */
    static final int CHARS_PER_BUDGET = 4000;

    private final RuleDetector detector;
    private final int historyTurns;
    private final int decayTurns;

    /**
     * @param historyTurns earlier user messages read (the most recent)
     * @param decayTurns   turns after which an earlier message's level drops by one
     */
    public ConversationAssessor(RuleDetector detector, int historyTurns, int decayTurns) {
        if (historyTurns < 0 || decayTurns < 1) {
            throw new IllegalArgumentException("historyTurns must be >= 0 and decayTurns >= 1");
        }
        this.detector = detector;
        this.historyTurns = historyTurns;
        this.decayTurns = decayTurns;
    }

    public String detectorVersion() {
        return detector.version();
    }

    /** Whether a model's reply gives method, dose or lethality details. */
    public boolean mentionsMethod(String reply) {
        return detector.mentionsMethod(reply);
    }

    /**
     * @param message         what the person wrote now
     * @param earlierMessages the person's earlier messages, oldest first (the model's are not read)
     */
    public Assessment assess(String message, List<String> earlierMessages) {
        return assess(message, earlierMessages, Duration.ofDays(1));
    }

    /**
     * As {@link #assess(String, List)}, given up once this thread has spent {@code cpuBudget} of CPU time
     * for every {@value #CHARS_PER_BUDGET} characters it reads (started ones count whole).
     *
     * <p>Why per characters: the rules' cost grows linearly with the text (about 25 ms per 1,000
     * characters here), and a request may carry up to {@code safety.history.turns} earlier messages of
     * {@code limits.message-chars} each. A fixed limit would grade every long conversation by the
     * fail-safe level 2 instead of by what it says; a limit per characters still stops a pattern that
     * runs away on some input.
     *
     * @throws DeadlineText.Expired when the budget runs out first
     */
    public Assessment assess(String message, List<String> earlierMessages, Duration cpuBudget) {
        List<String> recent = earlierMessages.subList(Math.max(0, earlierMessages.size() - historyTurns),
                earlierMessages.size());
        long chars = message.length() + recent.stream().mapToLong(String::length).sum();
        return grade(message, recent, ThreadCpuClock.now() + cpuBudget.toNanos() * budgetsFor(chars));
    }

    /** The time budgets a detection reading {@code chars} characters gets: one per started {@value #CHARS_PER_BUDGET}. */
    static long budgetsFor(long chars) {
        return Math.max(1, (chars + CHARS_PER_BUDGET - 1) / CHARS_PER_BUDGET);
    }

    private Assessment grade(String message, List<String> recent, long deadlineNanos) {
        boolean context = false;
        Level historyLevel = Level.NONE;
        List<Signal> historySignals = new ArrayList<>();
        for (int i = 0; i < recent.size(); i++) {
            int turnsAgo = recent.size() - i;
            List<Signal> signals = detector.detect(recent.get(i), context, deadlineNanos);
            context |= showsContext(signals);
            for (Signal s : signals) {
                Level decayed = Level.of(s.level().value() - (turnsAgo - 1) / decayTurns);
                if (s.level().atLeast(Level.DISTRESS) && decayed.atLeast(Level.DISTRESS)) {
                    Signal d = new Signal(s.category(), decayed, s.atRisk(), s.negated(), s.past(), s.ruleId());
                    historySignals.add(d);
                    historyLevel = Level.max(historyLevel, decayed);
                }
            }
        }
        List<Signal> current = detector.detect(message, context, deadlineNanos);
        Level currentLevel = current.stream().map(Signal::level).reduce(Level.NONE, Level::max);
        Level level = Level.max(currentLevel, historyLevel);
        boolean fromHistory = historyLevel.compareTo(currentLevel) > 0;

        EnumSet<Category> categories = EnumSet.noneOf(Category.class);
        EnumSet<AtRisk> atRisk = EnumSet.noneOf(AtRisk.class);
        if (level != Level.NONE) {
            Level floor = level.atLeast(Level.RISK) ? Level.RISK : Level.DISTRESS;
            List<Signal> all = new ArrayList<>(current);
            all.addAll(historySignals);
            for (Signal s : all) {
                if (s.level().atLeast(floor)) {
                    categories.add(s.category());
                    atRisk.add(s.atRisk());
                }
            }
            if (categories.size() > 1) {
                categories.remove(Category.DISTRESS);
            }
        }
        boolean negated = current.stream().anyMatch(Signal::negated);
        boolean past = current.stream().anyMatch(Signal::past);
        return new Assessment(level, new ArrayList<>(categories), Set.copyOf(atRisk), negated, past, fromHistory,
                false);
    }

    /** Distress, a stressor or any risk in a message makes method-adjacent questions count later. */
    private static boolean showsContext(List<Signal> signals) {
        for (Signal s : signals) {
            if (s.atRisk() == AtRisk.SELF && !s.negated()
                    && (s.level().atLeast(Level.DISTRESS) || s.category() == Category.DISTRESS)) {
                return true;
            }
        }
        return false;
    }
}
