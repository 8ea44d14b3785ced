package org.therapeia.safety;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One rule of a rule file: patterns for one phenomenon, with the level and category it signals.
 *
 * @param level        the level when it matches (0: a context cue only, such as a recent loss)
 * @param contextLevel the level when the conversation already shows distress or a stressor (for
 *                     method-adjacent phrasings that are harmless on their own: "which bridges are
 *                     the tallest"); {@code level} when the rule has none
 * @param atRisk       who is at risk; null: whoever is the nearest subject before the match
 * @param topicProof   stays when the sentence is framed as a topic, a story or a quotation
 *                     (method-seeking "for a story" is still method-seeking)
 * @param flippable    drops to distress next to laughter ("kms lol")
 * @param unless       anywhere in the match's sentence, shows the match is harmless ("ending it" with
 *                     "relationship" near); null when the rule has none
 */
record Rule(String id, Category category, Level level, Level contextLevel, AtRisk atRisk, boolean topicProof,
            boolean flippable, List<Pattern> patterns, Pattern unless) {
}
