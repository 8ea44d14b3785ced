package org.therapeia.inference;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A tokenizer's special tokens ({@code "special": true} in {@code tokenizer.json}'s
 * {@code added_tokens}): every control token a chat template writes ({@code <|im_start|>},
 * {@code <|eot_id|>}, {@code [INST]}, {@code </s>}...), with the ids the tokenizer gives them.
 * Finds the stretches of message text that could be read as one: a special token's text, and a
 * piece of one at the edge of a message, where the template's own text could complete it.
 */
final class SpecialTokens {

    /** A node of the trie over the tokens' text (one char per edge). */
    private static final class Node {
        final Map<Character, Node> next = new HashMap<>();
        boolean token;
    }

    private final Map<Integer, String> byId;
    private final Node trie = new Node();
    private final Set<String> properPrefixes = new HashSet<>();
    private final Set<String> properSuffixes = new HashSet<>();
    private final int maxLength;
    private final char mark;

    /**
     * @param ids          special token text to its id
     * @param addedTokens  the text of every added token, special or not (the placeholder mark must
     *                     occur in none)
     */
    SpecialTokens(Map<String, Integer> ids, Collection<String> addedTokens) {
        this.byId = new HashMap<>();
        int longest = 0;
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            String text = e.getKey();
            byId.put(e.getValue(), text);
            longest = Math.max(longest, text.length());
            Node node = trie;
            for (int i = 0; i < text.length(); i++) {
                node = node.next.computeIfAbsent(text.charAt(i), c -> new Node());
                if (i + 1 < text.length()) {
                    properPrefixes.add(text.substring(0, i + 1));
                    properSuffixes.add(text.substring(i + 1));
                }
            }
            node.token = true;
        }
        this.maxLength = longest;
        this.mark = unusedPrivateUseChar(addedTokens);
    }

    private static char unusedPrivateUseChar(Collection<String> addedTokens) {
        for (char c = '\uE000'; c <= '\uF8FF'; c++) {
            String s = String.valueOf(c);
            if (addedTokens.stream().noneMatch(t -> t.contains(s))) {
                return c;
            }
        }
        throw new TokenizerException("every private-use character occurs in an added token");
    }

    boolean isSpecial(int id) {
        return byId.containsKey(id);
    }

    /** The text of special token {@code id}, or null when it is not one. */
    String text(int id) {
        return byId.get(id);
    }

    /** A private-use character that occurs in no added token: placeholders are made of it and digits. */
    char mark() {
        return mark;
    }

    /**
     * The stretches {@code [start, end)} of {@code content} that must not reach the chat template
     * and the tokenizer's added-token matching as written, sorted and disjoint: every occurrence of
     * a special token's text, and at each edge of the message (as written and with its
     * whitespace trimmed, as templates do) a piece of a token that the template's neighbouring
     * text could complete.
     */
    List<int[]> rangesToEscape(String content) {
        List<int[]> ranges = new ArrayList<>();
        int n = content.length();
        for (int i = 0; i < n; i++) {
            int length = longestTokenAt(content, i);
            if (length > 0) {
                ranges.add(new int[] {i, i + length});
            }
        }
        int lead = 0;
        while (lead < n && isTrimmed(content.charAt(lead))) {
            lead++;
        }
        int trail = n;
        while (trail > lead && isTrimmed(content.charAt(trail - 1))) {
            trail--;
        }
        for (int start : new int[] {0, lead}) {
            for (int length = Math.min(maxLength - 1, n - start); length > 0; length--) {
                if (properSuffixes.contains(content.substring(start, start + length))) {
                    ranges.add(new int[] {start, start + length});
                    break;
                }
            }
        }
        for (int end : new int[] {n, trail}) {
            for (int length = Math.min(maxLength - 1, end); length > 0; length--) {
                if (properPrefixes.contains(content.substring(end - length, end))) {
                    ranges.add(new int[] {end - length, end});
                    break;
                }
            }
        }
        if (lead < trail && trail - lead < maxLength) {
            String core = content.substring(lead, trail);
            if (byId.values().stream().anyMatch(t -> t.contains(core))) {
                ranges.add(new int[] {lead, trail}); // the template could write text on both sides
            }
        }
        return merged(ranges);
    }

    private int longestTokenAt(String s, int from) {
        Node node = trie;
        int longest = 0;
        for (int i = from; i < s.length(); i++) {
            node = node.next.get(s.charAt(i));
            if (node == null) {
                break;
            }
            if (node.token) {
                longest = i + 1 - from;
            }
        }
        return longest;
    }

    /**
     * What Python's {@code str.strip()} or Java's {@code trim()} (Jinja's {@code trim} filter)
     * removes: either may be the template's.
     */
    private static boolean isTrimmed(char c) {
        return c <= ' ' || c == '\u0085' || Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static List<int[]> merged(List<int[]> ranges) {
        ranges.sort((a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
        List<int[]> out = new ArrayList<>();
        for (int[] r : ranges) {
            int[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && r[0] <= last[1]) {
                last[1] = Math.max(last[1], r[1]);
            } else {
                out.add(r);
            }
        }
        return out;
    }
}
