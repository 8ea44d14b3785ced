package org.therapeia.safety;

/**
 * One thing a detector found in one message. It carries no text: {@code ruleId} names the rule
 * (for the evaluation's diagnostics; never logged).
 *
 * @param level    after negation, past tense, third person and topic have been taken into account
 * @param negated  the statement was negated ("I'm not suicidal")
 * @param past     the statement was about the remote past ("years ago I ...")
 */
public record Signal(Category category, Level level, AtRisk atRisk, boolean negated, boolean past, String ruleId) {
}
