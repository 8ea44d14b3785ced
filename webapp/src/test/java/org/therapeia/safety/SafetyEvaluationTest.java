package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rules' figures on the project's labelled set, printed (see the README's safety section) and
 * held to the targets: recall >= 0.98 on direct and imminent statements, >= 0.80 on
 * indirect ones; false positives <= 3% on benign therapy talk and <= 5% on hyperbole. Latency is
 * printed, never asserted.
 */
class SafetyEvaluationTest {

    @Test
    void theRulesMeetTheTargetsOnTheLabelledSet() throws Exception {
        ConversationAssessor assessor = new ConversationAssessor(new RuleDetector(List.of("en", "es", "fr", "de")),
                10, 3);
        List<SafetyEvaluation.Item> items = SafetyEvaluation.load("safety/eval-en.tsv");
        assertTrue(items.size() >= 300, "at least 300 messages");
        SafetyEvaluation.Result r = SafetyEvaluation.run(assessor, items);
        SafetyEvaluation.print(r, System.out, Boolean.getBoolean("safety.eval.misses"));

        assertTrue(r.groups().get("benign_therapy").n() >= 100, "at least 100 benign therapy messages");
        assertTrue(r.groups().get("direct").atLevelRate() >= 0.98, "recall on direct statements");
        assertTrue(r.groups().get("imminent").atLevelRate() >= 0.98, "recall on imminent statements");
        assertTrue(r.groups().get("indirect").flaggedRate() >= 0.80, "recall on indirect statements");
        assertTrue(r.groups().get("benign_therapy").flaggedRate() <= 0.03, "false positives on benign therapy talk");
        assertTrue(r.groups().get("hyperbole").flaggedRate() <= 0.05, "false positives on hyperbole");
    }
}
