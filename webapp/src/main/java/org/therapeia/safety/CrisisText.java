package org.therapeia.safety;

import java.util.ArrayList;
import java.util.List;

/**
 * The crisis-resource text a reply carries: at level 4 the emergency number first, then the
 * crisis lines; at levels 2 and 3 the crisis lines, then the emergency number. Someone worried
 * about another person is told the lines help them too.
 */
final class CrisisText {

    private CrisisText() {
    }

    static String block(LocaleResources table, Assessment a) {
        StringBuilder b = new StringBuilder();
        boolean forSomeoneElse = !a.atRisk().isEmpty() && !a.atRisk().contains(AtRisk.SELF);
        if (a.level().atLeast(Level.IMMINENT)) {
            table.emergency().ifPresent(e -> b.append(forSomeoneElse
                    ? "If someone's life is in danger right now, call " + e.phone() + " (" + e.name() + ") now."
                    : "If you are in danger right now, please call " + e.phone() + " (" + e.name() + ") now.")
                    .append('\n'));
        }
        b.append(forSomeoneElse
                ? "You don't have to handle this alone; these services also help people worried about someone:"
                : "You don't have to go through this alone. You can reach someone right now:");
        for (CrisisResource line : table.lines()) {
            b.append("\n- ").append(describe(line));
        }
        if (!a.level().atLeast(Level.IMMINENT)) {
            table.emergency().ifPresent(e -> b.append("\nIn an emergency, call ").append(e.phone()).append('.'));
        }
        return b.toString();
    }

    private static String describe(CrisisResource r) {
        List<String> ways = new ArrayList<>();
        if (r.phone() != null) {
            ways.add("call " + r.phone());
        }
        if (r.sms() != null) {
            ways.add("text " + r.sms());
        }
        if (r.url() != null) {
            ways.add(r.url());
        }
        return r.name() + ": " + String.join(", ", ways) + (r.hours().isEmpty() ? "" : " (" + r.hours() + ")");
    }
}
