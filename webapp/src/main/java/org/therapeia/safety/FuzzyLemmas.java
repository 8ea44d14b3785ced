package org.therapeia.safety;

import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Misspelt key words read as the word meant ("sucidal", "umbrigen", "overdoes"), so that a rule
 * file need not list every typo of a word a person in crisis may type in a hurry. A word of the
 * text is replaced by a listed lemma when it is at most one edit away (insertion, deletion,
 * substitution, or two neighbouring letters swapped), or two edits for lemmas of nine letters or
 * more, and starts with the same letter. Only long, distinctive lemmas belong in the list: short
 * ones collide with ordinary words ("pills" and "pulls"). Words listed as {@code keep} are real
 * words near a lemma and stay as written.
 */
final class FuzzyLemmas {

    static final FuzzyLemmas NONE = new FuzzyLemmas(List.of(), Set.of(), Integer.MAX_VALUE);

    private static final Pattern LETTERS = Pattern.compile("\\p{L}+");
    private static final int LONG_LEMMA = 9;

    private final List<String> lemmas;
    private final Set<String> lemmaSet;
    private final Set<String> keep;
    private final int minLength;

    /**
     * @param lemmas    the words that misspellings are read as (lower case)
     * @param keep      real words close to a lemma, never replaced
     * @param minLength words shorter than this are never replaced
     */
    FuzzyLemmas(List<String> lemmas, Set<String> keep, int minLength) {
        this.lemmas = List.copyOf(lemmas);
        this.lemmaSet = Set.copyOf(lemmas);
        this.keep = Set.copyOf(keep);
        this.minLength = minLength;
    }

    /** The text with every near miss of a lemma replaced by the lemma. */
    String correct(String text) {
        if (lemmas.isEmpty()) {
            return text;
        }
        Matcher m = LETTERS.matcher(text);
        StringBuilder out = null;
        int copied = 0;
        while (m.find()) {
            String word = m.group();
            if (word.length() < minLength || lemmaSet.contains(word) || keep.contains(word)) {
                continue;
            }
            String lemma = nearest(word);
            if (lemma != null) {
                if (out == null) {
                    out = new StringBuilder(text.length() + 16);
                }
                out.append(text, copied, m.start()).append(lemma);
                copied = m.end();
            }
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    /** The closest lemma within reach; of equally close ones, one of the word's own length ("suicidel": suicidal). */
    private String nearest(String word) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String lemma : lemmas) {
            int allowed = lemma.length() >= LONG_LEMMA ? 2 : 1;
            if (lemma.charAt(0) != word.charAt(0) || Math.abs(lemma.length() - word.length()) > allowed) {
                continue;
            }
            int d = distance(word, lemma, allowed);
            boolean closer = d < bestDistance
                    || d == bestDistance && lemma.length() == word.length() && best.length() != word.length();
            if (d <= allowed && closer) {
                best = lemma;
                bestDistance = d;
            }
        }
        return best;
    }

    /**
     * Optimal-string-alignment distance (edits with adjacent swaps), given up as soon as it must
     * exceed {@code limit}: the caller only asks whether a word is within a small distance.
     */
    static int distance(String a, String b, int limit) {
        int[] twoBack = new int[b.length() + 1];
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int d = Math.min(Math.min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d = Math.min(d, twoBack[j - 2] + 1);
                }
                current[j] = d;
                rowMin = Math.min(rowMin, d);
            }
            if (rowMin > limit) {
                return limit + 1;
            }
            int[] recycled = twoBack;
            twoBack = previous;
            previous = current;
            current = recycled;
        }
        return previous[b.length()];
    }
}
