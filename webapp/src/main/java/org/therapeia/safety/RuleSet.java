package org.therapeia.safety;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The rules of one language, read from {@code safety/rules-<language>.json}: the phrasings that
 * signal risk, and the cues that change what a phrasing means (negation, the remote past, a
 * third person, a topic or quotation, idioms and hyperbole, laughter), and the key words whose
 * misspellings are read as the word ({@link FuzzyLemmas}). Rules are data: adding a
 * language is adding a file. Patterns are Java regular expressions over the normalised text
 * (lower case, text-speak expanded by the file's substitutions); {@code {NAME}} inside a pattern
 * stands for the file's macro NAME. Concepts and frames ({@link ConceptFrame}) are the main
 * mechanism: lexicons of concepts, and the combinations of them that signal risk.
 */
final class RuleSet {

    private static final Pattern MACRO = Pattern.compile("\\{([A-Z][A-Z_0-9]*)\\}");

    final String language;
    final String version;
    final FuzzyLemmas fuzzy;
    final List<Substitution> substitutions;
    final List<Pattern> idioms;
    final Pattern clauseBreak;
    final Pattern negation;
    final Pattern pseudoNegation;
    final int negationWindowWords;
    final Pattern past;
    final Pattern recurrence;
    /** Optional: phrasings that tell of the risk as recovered from ("therapy got me through"); null without. */
    private final Pattern recoveryCues;
    /** Optional: phrasings that tell of recovery only beside a remote-past cue ("I'm doing well now"); null without. */
    private final Pattern recoveryWithPast;
    final Pattern firstPerson;
    final Pattern thirdPerson;
    final Pattern topic;
    final Pattern laughter;
    final List<Rule> rules;
    final List<Pattern> outputPatterns;

    record Substitution(Pattern pattern, String replacement) {
    }

    private RuleSet(JsonObject json, String source) {
        Map<String, String> macros = new HashMap<>();
        JsonObject m = json.getJsonObject("macros");
        if (m != null) {
            // macros may use macros defined before them
            for (String name : m.keySet()) {
                macros.put(name, expand(m.getString(name), macros, source));
            }
        }
        language = json.getString("language");
        version = json.getString("version");
        fuzzy = fuzzy(json.getJsonObject("fuzzy"));
        substitutions = new ArrayList<>();
        for (JsonValue v : array(json, "substitutions")) {
            JsonArray pair = v.asJsonArray();
            substitutions.add(new Substitution(compile(pair.getString(0), macros, source), pair.getString(1)));
        }
        idioms = patterns(json, "idioms", macros, source);
        clauseBreak = compile(json.getString("clause_break"), macros, source);
        JsonObject negationJson = json.getJsonObject("negation");
        negation = compile(negationJson.getString("cues"), macros, source);
        pseudoNegation = compile(negationJson.getString("pseudo"), macros, source);
        negationWindowWords = negationJson.getInt("window_words");
        past = compile(json.getString("past"), macros, source);
        recurrence = compile(json.getString("recurrence"), macros, source);
        JsonObject recovery = json.getJsonObject("recovery");
        recoveryCues = recovery == null ? null : compile(recovery.getString("cues"), macros, source);
        recoveryWithPast = recovery == null ? null : compile(recovery.getString("with_past"), macros, source);
        firstPerson = compile(json.getString("first_person"), macros, source);
        thirdPerson = compile(json.getString("third_person"), macros, source);
        topic = compile(json.getString("topic"), macros, source);
        laughter = compile(json.getString("laughter"), macros, source);
        JsonObject c = json.getJsonObject("concepts");
        Map<String, String> concepts = new HashMap<>();
        if (c != null) {
            // a concept's lexicon may use the macros, and is one itself, for rules that need it inside a longer phrasing
            for (String name : c.keySet()) {
                String alternatives = expand(String.join("|", strings(c, name, false)), macros, source);
                concepts.put(name, alternatives);
                macros.put(name, "(?:" + alternatives + ")");
            }
        }
        String gapWord = json.containsKey("frame_gap_word") ? expand(json.getString("frame_gap_word"), macros, source) : null;
        rules = new ArrayList<>();
        for (JsonValue v : array(json, "rules")) {
            JsonObject r = v.asJsonObject();
            rules.add(rule(r, patterns(r, "patterns", macros, source + " rule " + r.getString("id")), macros, source));
        }
        for (JsonValue v : array(json, "frames")) {
            JsonObject f = v.asJsonObject();
            String where = source + " frame " + f.getString("id");
            if (gapWord == null) {
                throw new IllegalArgumentException(source + ": frames need a frame_gap_word");
            }
            List<Pattern> compiled = new ArrayList<>();
            for (String regex : ConceptFrame.patterns(strings(f, "concepts", false), concepts, gapWord,
                    f.getInt("max_gap"), f.getBoolean("any_order", false), where)) {
                compiled.add(compile(regex, macros, where));
            }
            rules.add(rule(f, List.copyOf(compiled), macros, source));
        }
        outputPatterns = patterns(json, "output", macros, source);
    }

    /**
     * A rule or a frame: what it signals, and its optional {@code unless} guards (phrasings that,
     * anywhere in the sentence, show the match means something harmless).
     */
    private static Rule rule(JsonObject r, List<Pattern> patterns, Map<String, String> macros, String source) {
        String id = r.getString("id");
        Level level = Level.of(r.getInt("level"));
        Level contextLevel = r.containsKey("context_level") ? Level.of(r.getInt("context_level")) : level;
        String atRisk = r.getString("at_risk", "subject");
        List<String> unless = strings(r, "unless", false);
        return new Rule(id, Category.of(r.getString("category")), level, contextLevel,
                switch (atRisk) {
                    case "self" -> AtRisk.SELF;
                    case "third" -> AtRisk.THIRD_PERSON;
                    case "subject" -> null;
                    default -> throw new IllegalArgumentException(source + ": rule " + id
                            + ": at_risk must be self, third or subject");
                },
                r.getBoolean("topic_proof", false), r.getBoolean("flippable", false), patterns,
                unless.isEmpty() ? null : compile(String.join("|", unless), macros, source + " rule " + id));
    }

    /** Reads {@code safety/rules-<language>.json} from the class path. */
    static RuleSet load(String language) {
        String resource = "safety/rules-" + language + ".json";
        try (InputStream in = RuleSet.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no rule file " + resource + " for safety.rules.languages");
            }
            try (JsonReader reader = Json.createReader(in)) {
                return new RuleSet(reader.readObject(), resource);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /**
     * Whether the message tells its risk talk as a recovery story ("Therapy got me through it",
     * "It reminds me how far I've come"; "I'm doing well now" only beside a remote-past cue), with
     * no cue of it coming back anywhere in it: then a sentence about the attempt or the letters
     * reads as the past even where that sentence alone has no past cue.
     */
    boolean tellsOfRecovery(CharSequence text) {
        if (recoveryCues == null || recurrence.matcher(text).find()) {
            return false;
        }
        return recoveryCues.matcher(text).find()
                || recoveryWithPast.matcher(text).find() && past.matcher(text).find();
    }

    /** The optional {@code fuzzy} section: {@code {"min_length": n, "lemmas": [...], "keep": [...]}}. */
    private static FuzzyLemmas fuzzy(JsonObject json) {
        if (json == null) {
            return FuzzyLemmas.NONE;
        }
        return new FuzzyLemmas(strings(json, "lemmas"), Set.copyOf(strings(json, "keep")), json.getInt("min_length"));
    }

    private static List<String> strings(JsonObject json, String name) {
        return strings(json, name, true);
    }

    private static List<String> strings(JsonObject json, String name, boolean lowerCase) {
        return array(json, name).stream().map(v -> ((JsonString) v).getString())
                .map(s -> lowerCase ? s.toLowerCase(Locale.ROOT) : s).toList();
    }

    private static List<JsonValue> array(JsonObject json, String name) {
        JsonArray a = json.getJsonArray(name);
        return a == null ? List.of() : a;
    }

    private static List<Pattern> patterns(JsonObject json, String name, Map<String, String> macros, String source) {
        List<Pattern> list = new ArrayList<>();
        for (JsonValue v : array(json, name)) {
            list.add(compile(((JsonString) v).getString(), macros, source));
        }
        return List.copyOf(list);
    }

    private static Pattern compile(String regex, Map<String, String> macros, String source) {
        try {
            return Pattern.compile(expand(regex, macros, source),
                    Pattern.UNICODE_CASE | Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(source + ": bad pattern: " + e.getDescription() + " in " + regex, e);
        }
    }

    private static String expand(String regex, Map<String, String> macros, String source) {
        Matcher m = MACRO.matcher(regex);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String value = macros.get(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException(source + ": unknown macro {" + m.group(1) + "}");
            }
            m.appendReplacement(b, Matcher.quoteReplacement(value));
        }
        m.appendTail(b);
        return b.toString();
    }
}
