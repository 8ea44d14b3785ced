package org.therapeia.safety;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A concept frame of a rule file: risk that shows as a few concepts meeting in one stretch of a
 * sentence (someone who benefits, "better off", the writer's absence: "my parents would be less
 * stressed with me gone") rather than as one fixed phrasing. Sentence-shaped rules only catch the
 * sentences someone wrote down; a frame catches every combination of its concepts' lexicons, so a
 * new word for a concept serves every frame that uses it.
 *
 * <p>A frame names its concepts (lexicons from the file's {@code concepts} section) in the order
 * they occur, or in any order, with at most {@code maxGap} words between two of them. Each word
 * in a gap must match the file's {@code frame_gap_word}, which leaves out negations and new
 * subjects: "I'm scared my mum won't be around" must not read as "I won't be around". A frame is
 * compiled into ordinary patterns, so it goes through the same negation, past, third-person,
 * topic and idiom handling as every other rule, and stays linear in the text's length (every gap
 * is bounded and each gap word starts at a space).
 */
final class ConceptFrame {

    private ConceptFrame() {
    }

    /**
     * The frame's regular expressions: one per order of its concepts (one when ordered).
     *
     * @param concepts the concept names, in order
     * @param lexicons every concept's alternatives, joined into one regular expression
     * @param gapWord  one word that may stand between two concepts, with its leading space
     */
    static List<String> patterns(List<String> concepts, Map<String, String> lexicons, String gapWord, int maxGap,
                                 boolean anyOrder, String source) {
        if (concepts.isEmpty()) {
            throw new IllegalArgumentException(source + ": a frame needs at least one concept");
        }
        List<String> lexicon = new ArrayList<>();
        for (String name : concepts) {
            String alternatives = lexicons.get(name);
            if (alternatives == null) {
                throw new IllegalArgumentException(source + ": unknown concept " + name);
            }
            lexicon.add(alternatives);
        }
        List<List<String>> orders = anyOrder ? permutations(lexicon) : List.of(lexicon);
        String gap = "(?:" + gapWord + "){0," + maxGap + "},? ";
        List<String> patterns = new ArrayList<>();
        for (List<String> order : orders) {
            StringBuilder b = new StringBuilder();
            for (String alternatives : order) {
                b.append(b.length() == 0 ? "" : gap).append("\\b(?:").append(alternatives).append(")\\b");
            }
            patterns.add(b.toString());
        }
        return patterns;
    }

    private static List<List<String>> permutations(List<String> items) {
        if (items.size() <= 1) {
            return List.of(items);
        }
        List<List<String>> all = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            List<String> rest = new ArrayList<>(items);
            String first = rest.remove(i);
            for (List<String> tail : permutations(rest)) {
                List<String> order = new ArrayList<>();
                order.add(first);
                order.addAll(tail);
                all.add(order);
            }
        }
        return all;
    }
}
