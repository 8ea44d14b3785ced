package org.therapeia.safety;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark of the built-in rules over the project's labelled set
 * ({@code src/test/resources/safety/eval-en.tsv}): recall per risk group (flagged at level 2 or
 * more, and at the expected level or more), false-positive rate per benign group, and the
 * detector's latency. Run by {@link SafetyEvaluationTest} (see the README's safety section);
 * {@code -Dsafety.eval.misses=true} also lists the items it gets wrong.
 */
final class SafetyEvaluation {

    /** Groups whose items carry no risk: a level of 2 or more is a false positive. */
    static final Set<String> BENIGN = Set.of("benign_therapy", "hyperbole", "negated", "past", "topic");

    record Item(int line, String group, Level expected, String category, List<String> turns) {
    }

    record GroupResult(String group, int n, int flagged, int atLevel, List<String> misses) {
        double flaggedRate() {
            return n == 0 ? 0 : (double) flagged / n;
        }

        double atLevelRate() {
            return n == 0 ? 0 : (double) atLevel / n;
        }
    }

    record Result(Map<String, GroupResult> groups, int items, double medianMicros, double p95Micros,
                  double maxMicros) {
    }

    static List<Item> load(String resource) throws IOException {
        List<Item> items = new ArrayList<>();
        try (InputStream in = SafetyEvaluation.class.getClassLoader().getResourceAsStream(resource);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t", 4);
                List<String> turns = Arrays.stream(f[3].split("\\|\\|")).map(String::strip)
                        .filter(s -> !s.isEmpty()).toList();
                items.add(new Item(n, f[0], Level.of(Integer.parseInt(f[1])), f[2], turns));
            }
        }
        return items;
    }

    static Result run(ConversationAssessor assessor, List<Item> items) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        Map<String, List<String>> misses = new LinkedHashMap<>();
        for (Item item : items) {
            Assessment a = assess(assessor, item);
            int[] c = counts.computeIfAbsent(item.group(), g -> new int[3]);
            List<String> m = misses.computeIfAbsent(item.group(), g -> new ArrayList<>());
            c[0]++;
            boolean flagged = a.level().atLeast(Level.RISK);
            if (BENIGN.contains(item.group())) {
                if (flagged) {
                    c[1]++;
                    m.add(item.line() + " got " + a.level().value() + " " + a.categories() + ": " + item.turns());
                }
            } else {
                if (flagged) {
                    c[1]++;
                }
                if (flagged && a.level().atLeast(item.expected())) {
                    c[2]++;
                } else {
                    m.add(item.line() + " got " + a.level().value() + " want " + item.expected().value() + ": "
                            + item.turns());
                }
            }
        }
        Map<String, GroupResult> groups = new LinkedHashMap<>();
        counts.forEach((g, c) -> groups.put(g, new GroupResult(g, c[0], c[1], c[2], misses.get(g))));

        // latency: every item assessed 20 times after a warm-up pass; one figure per assessment
        for (Item item : items) {
            assess(assessor, item);
        }
        List<Long> nanos = new ArrayList<>();
        for (int round = 0; round < 20; round++) {
            for (Item item : items) {
                long t0 = System.nanoTime();
                assess(assessor, item);
                nanos.add(System.nanoTime() - t0);
            }
        }
        nanos.sort(Long::compare);
        return new Result(groups, items.size(), nanos.get(nanos.size() / 2) / 1e3,
                nanos.get((int) (nanos.size() * 0.95)) / 1e3, nanos.get(nanos.size() - 1) / 1e3);
    }

    private static Assessment assess(ConversationAssessor assessor, Item item) {
        List<String> turns = item.turns();
        return assessor.assess(turns.get(turns.size() - 1), turns.subList(0, turns.size() - 1));
    }

    static void print(Result result, PrintStream out, boolean listMisses) {
        out.printf("%nSafety rules evaluation: %d items%n", result.items());
        out.printf("%-16s %5s  %-26s %-26s%n", "group", "n", "recall (level >= 2)", "recall (>= expected level)");
        result.groups().values().stream().filter(g -> !BENIGN.contains(g.group())).forEach(g ->
                out.printf("%-16s %5d  %-26s %-26s%n", g.group(), g.n(),
                        String.format("%.3f (%d)", g.flaggedRate(), g.flagged()),
                        String.format("%.3f (%d)", g.atLevelRate(), g.atLevel())));
        out.printf("%-16s %5s  %-26s%n", "benign group", "n", "false-positive rate (level >= 2)");
        result.groups().values().stream().filter(g -> BENIGN.contains(g.group())).forEach(g ->
                out.printf("%-16s %5d  %.3f (%d)%n", g.group(), g.n(), g.flaggedRate(), g.flagged()));
        out.printf("latency per assessment (whole conversation): median %.1f us, p95 %.1f us, max %.1f us%n",
                result.medianMicros(), result.p95Micros(), result.maxMicros());
        if (listMisses) {
            result.groups().values().forEach(g -> g.misses().forEach(m -> out.println("  " + g.group() + " " + m)));
        }
    }

    /**
     * Arguments: the rule languages (comma-separated, default {@code en}), then the labelled sets to
     * run, as test resources (default {@code safety/eval-en.tsv}).
     */
    public static void main(String[] args) throws IOException {
        ConversationAssessor assessor = new ConversationAssessor(
                new RuleDetector(List.of(args.length > 0 ? args[0].split(",") : new String[] {"en"})), 10, 3);
        List<String> sets = args.length > 1 ? List.of(args).subList(1, args.length) : List.of("safety/eval-en.tsv");
        for (String set : sets) {
            System.out.printf("%n== %s%n", set);
            print(run(assessor, load(set)), System.out, true);
        }
    }
}
