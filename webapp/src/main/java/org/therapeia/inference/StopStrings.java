package org.therapeia.inference;

import java.util.List;

/**
 * A request's stop strings, matched on the decoded text of the reply (never on tokens: a stop
 * string may span several tokens, and one token may end in the middle of it).
 */
public record StopStrings(List<String> strings) {

    public static final StopStrings NONE = new StopStrings(List.of());

    public StopStrings {
        strings = List.copyOf(strings);
    }

    public boolean isEmpty() {
        return strings.isEmpty();
    }

    /** The length of the longest stop string (0 for none): how far back a new match may begin. */
    public int maxLength() {
        int longest = 0;
        for (String stop : strings) {
            longest = Math.max(longest, stop.length());
        }
        return longest;
    }

    /** Where the earliest stop string in {@code text} begins, or -1 when it holds none. */
    public int firstMatch(String text) {
        int first = -1;
        for (String stop : strings) {
            int at = text.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /**
     * How many characters at the end of {@code text} could still grow into a stop string: the
     * longest suffix that is a proper prefix of one of them. A stream holds them back until the
     * next tokens show what they become, so that no piece of a stop string is ever sent.
     */
    public int holdBack(String text) {
        int longest = 0;
        for (String stop : strings) {
            for (int length = Math.min(stop.length() - 1, text.length()); length > longest; length--) {
                if (text.regionMatches(text.length() - length, stop, 0, length)) {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
