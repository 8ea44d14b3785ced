package org.therapeia.safety;

import java.util.Arrays;
import java.util.List;

/**
 * A guard's decoded answer as its non-blank lines, each stripped: both families answer in short
 * labelled lines, and the blank lines and spaces around them depend on where the chat template
 * left off.
 */
final class GuardOutputLines {

    private GuardOutputLines() {
    }

    static List<String> of(String output) {
        if (output == null) {
            return List.of();
        }
        return Arrays.stream(output.split("\\R")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
