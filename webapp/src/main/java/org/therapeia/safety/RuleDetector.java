package org.therapeia.safety;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The built-in detector: rules kept as data ({@link RuleSet}), no model, no network. Every
 * message is read with the rules of every configured language (a person may write in another
 * language than their locale's).
 *
 * <p>For each rule that matches, the context decides what the match means: a negation just
 * before it in the same clause ("I'm not suicidal") or a sentence about the remote past ("years
 * ago I ...", unless something says it is back) makes it distress at most; a nearer third-person
 * subject ("my friend says she wants to die") makes it concern for someone else (risk, or
 * imminent when it is happening now); a topic, story or quotation frame ("an essay on suicide
 * prevention", or the quoted words of a question about them) drops it, except for method-seeking; idioms and hyperbole ("this homework is
 * killing me") are blanked out before matching; laughter ("kms lol") turns flippant phrasings
 * into distress. Method-adjacent phrasings count only where the message or the conversation
 * already shows distress or a recent loss, or where two of them come together. Misspelt key words
 * are read as the word first ({@link FuzzyLemmas}). Most phrasings are caught by concept frames
 * ({@link ConceptFrame}): concepts that meet in a sentence, whatever words stand for them. Where
 * the rules find no risk, word weights learned from labelled messages ({@link WordScorer}, data
 * too) may still call a message risk: the phrasings no rule foresaw.
 */
public final class RuleDetector {

    private static final Pattern LEET = Pattern.compile("(?<=\\p{L})[0134@$!|](?=\\p{L})");
    private static final Pattern ELONGATED = Pattern.compile("(\\p{L})\\1{2,}");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\u00a0]+");
    private static final Pattern SENTENCE_END = Pattern.compile("[.!?\\n]+");
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}']+");
    private static final String VOWELS = "aeiouyáéíóúàèìòùâêîôûäëïöü";
    /**
     * How far a match's sentence, and the subject before it, are looked for on either side of it:
     * unpunctuated text runs on, and reading all of it for every match would make a long message
     * cost the square of its length.
     */
    private static final int SENTENCE_REACH = 500;
    /** Where the rules see risk, a higher word head counts when it is more likely than not. */
    private static final double HIGHER_HEAD_BESIDE_RULES = 0.5;
    /**
     * Where the rules see no risk, only a likelier one: words alone tell an errand from a plan less
     * well. 0.7, measured on held-out set 5 with weights not trained on it: method and plan at level 3
     * 9 -> 12 of 20, imminent at level 4 9 -> 12 of 15, no false positive added (1.0, i.e. never, was
     * the rule before).
     */
    private static final double HIGHER_HEAD_ALONE = 0.7;
    /**
     * The fewest words of a message its language's weights must know before they speak: with fewer,
     * the reading is mostly the weights' bias, which learned the labelled sets' balance (half of them
     * risk; Spanish +1.6, i.e. 0.83 for a message of unknown words), not the message ("hello x").
     */
    private static final int MIN_KNOWN_WORDS = 2;

    private final List<RuleSet> sets;
    private final List<WordScorer> scorers;
    private final String version;

    /**
     * @param languages rule files to load: {@code safety/rules-<language>.json} each, and the word
     *                  weights {@code safety/words-<language>.json} where the language has them
     */
    public RuleDetector(List<String> languages) {
        List<RuleSet> loaded = new ArrayList<>();
        List<WordScorer> weights = new ArrayList<>();
        for (String language : languages) {
            loaded.add(RuleSet.load(language.strip()));
            WordScorer.load(language.strip()).ifPresent(weights::add);
        }
        this.sets = List.copyOf(loaded);
        this.scorers = List.copyOf(weights);
        this.version = Stream.concat(sets.stream().map(s -> s.language + "@" + s.version),
                scorers.stream().map(WordScorer::version)).collect(Collectors.joining(","));
    }

    /** The rule files' languages and versions, for the audit: {@code en@2026-12-04.1,es@...}. */
    public String version() {
        return version;
    }

    /**
     * The signals in one message.
     *
     * @param riskContext the conversation already shows distress or a stressor; method-adjacent
     *                    phrasings then count at their context level
     */
    public List<Signal> detect(String message, boolean riskContext) {
        return detect(message, riskContext, System.nanoTime() + Long.MAX_VALUE / 2);
    }

    /**
     * The signals in one message, given up past {@code deadlineNanos} ({@link ThreadCpuClock#now()} of
     * this thread).
     *
     * @throws DeadlineText.Expired when the deadline passes first
     */
    public List<Signal> detect(String message, boolean riskContext, long deadlineNanos) {
        String normalised = normalise(message);
        List<Signal> signals = new ArrayList<>();
        boolean ordinary = false;
        for (RuleSet set : sets) {
            ordinary |= detect(set, prepare(set, normalised, deadlineNanos), riskContext, deadlineNanos, signals);
        }
        if (!ordinary) {
            addWordSignal(message, signals);
        }
        return signals;
    }

    /**
     * The word weights speak where they see more than the rules: a phrasing no rule knows (a higher
     * level only where its head is likelier than beside the rules: "I've made up my mind" is also
     * an errand), or an act or a plan where the rules see risk and read less. They learned negation,
     * the past and hyperbole from labelled examples too, so they are not silenced where a rule saw a
     * negation.
     */
    private void addWordSignal(String message, List<Signal> signals) {
        Optional<WordScorer> language = languageOf(message);
        if (language.isEmpty()) {
            return;
        }
        WordScorer scorer = language.get();
        Level rules = signals.stream().map(Signal::level).reduce(Level.NONE, Level::max);
        WordScorer.Reading words = scorer.read(message,
                rules.atLeast(Level.RISK) ? HIGHER_HEAD_BESIDE_RULES : HIGHER_HEAD_ALONE);
        if (words.level().compareTo(rules) > 0) {
            signals.add(new Signal(words.category(), words.level(), AtRisk.SELF, false, false, scorer.version()));
        }
    }

    /**
     * The weights of the language the message is written in: those that know most of its words
     * (the first configured on a tie), and none when they know fewer than {@link #MIN_KNOWN_WORDS}.
     * Only they read it: weights learned from Spanish messages have seen no English ones, so what
     * they would make of an English message is noise, and every language asked adds its false
     * positives.
     */
    private Optional<WordScorer> languageOf(String message) {
        WordScorer best = null;
        int bestKnown = MIN_KNOWN_WORDS - 1;
        for (WordScorer scorer : scorers) {
            int known = scorer.knownWords(message);
            if (known > bestKnown) {
                best = scorer;
                bestKnown = known;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Whether a model's reply gives method, dose or lethality details (the output check). */
    public boolean mentionsMethod(String reply) {
        String normalised = normalise(reply);
        for (RuleSet set : sets) {
            String text = substitute(set, normalised);
            for (Pattern p : set.outputPatterns) {
                if (p.matcher(text).find()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A match found before its meaning is settled. */
    private record Hit(Rule rule, int start, int end, boolean negated, boolean past, AtRisk atRisk) {
    }

    /**
     * Adds the signals of one language's rules to {@code out}.
     *
     * @return whether some match was read as ordinary (its rule's {@code unless} guard held, a
     *         topic or quotation frame, or a recovery story): then the rules know the message's
     *         risky-sounding words ("drive my car into town tonight") and the word weights are not asked
     */
    private static boolean detect(RuleSet set, String text, boolean riskContext, long deadlineNanos, List<Signal> out) {
        boolean laughing = set.laughter.matcher(text).find();
        DeadlineText guarded = new DeadlineText(text, deadlineNanos);
        List<Hit> hits = new ArrayList<>();
        boolean ordinary = false;
        boolean recovered = set.tellsOfRecovery(guarded);
        for (Rule rule : set.rules) {
            for (Pattern pattern : rule.patterns()) {
                Matcher m = pattern.matcher(guarded);
                while (m.find()) {
                    Hit hit = hit(set, rule, text, m.start(), m.end(), recovered);
                    if (hit != null) {
                        hits.add(hit);
                    } else {
                        ordinary = true;
                    }
                }
            }
        }
        if (recovered && !hits.isEmpty()) {
            ordinary = true; // the rules read the risk talk as a recovery story: the words do not know stories
        }
        boolean context = riskContext || hits.stream().anyMatch(h -> !h.negated() && !h.past()
                && h.rule().contextLevel() == h.rule().level()
                && h.atRisk() == AtRisk.SELF)
                || ambiguousCues(hits) >= 2;
        for (Hit h : hits) {
            Rule rule = h.rule();
            Level level = context ? rule.contextLevel() : rule.level();
            if (level == Level.NONE) {
                out.add(new Signal(rule.category(), Level.NONE, h.atRisk(), h.negated(), h.past(), rule.id()));
                continue;
            }
            if (rule.flippable() && laughing) {
                level = Level.min(level, Level.DISTRESS);
            }
            if (h.atRisk() == AtRisk.THIRD_PERSON && rule.atRisk() == null && level != Level.IMMINENT) {
                level = Level.min(level, Level.RISK); // concern for someone else
            }
            if (h.negated() || h.past()) {
                level = Level.min(level, Level.DISTRESS);
            }
            out.add(new Signal(rule.category(), level, h.atRisk(), h.negated(), h.past(), rule.id()));
        }
        return ordinary;
    }

    /**
     * How many separate places in the message hold a phrasing that is harmless alone and counts
     * only in context ("I've picked the date", "I gave my cat to my sister"): two of them together
     * are the context for each other, as preparations seldom come one at a time. Overlapping
     * matches (two patterns on the same words) are one place.
     */
    private static int ambiguousCues(List<Hit> hits) {
        List<Hit> cues = hits.stream().filter(h -> !h.negated() && !h.past() && h.atRisk() == AtRisk.SELF
                        && h.rule().contextLevel().compareTo(h.rule().level()) > 0)
                .sorted(Comparator.comparingInt(Hit::start)).toList();
        int places = 0;
        int end = -1;
        for (Hit h : cues) {
            if (h.start() >= end) {
                places++;
            }
            end = Math.max(end, h.end());
        }
        return places;
    }

    /**
     * What one match means in its sentence; null when its rule's {@code unless} guard holds there,
     * or when it is framed as a topic or quotation. {@code recovered}: the message tells its risk
     * talk as a recovery story ({@link RuleSet#tellsOfRecovery}), so the match is past unless its
     * own sentence says it came back.
     */
    private static Hit hit(RuleSet set, Rule rule, String text, int start, int end, boolean recovered) {
        int sentenceStart = lastEnd(SENTENCE_END, text, Math.max(0, start - SENTENCE_REACH), start);
        int sentenceEnd = nextStart(SENTENCE_END, text, end, Math.min(text.length(), end + SENTENCE_REACH));
        int clauseStart = lastEnd(set.clauseBreak, text, sentenceStart, start);
        int clauseEnd = Math.max(end, nextStart(set.clauseBreak, text, end, sentenceEnd));
        String sentence = text.substring(sentenceStart, sentenceEnd);
        String clause = text.substring(clauseStart, clauseEnd);
        String beforeInClause = text.substring(clauseStart, start);
        String matched = text.substring(start, end);

        if (rule.unless() != null && rule.unless().matcher(sentence).find()) {
            return null;
        }
        if (!rule.topicProof() && set.topic.matcher(sentence).find()
                && (set.topic.matcher(clause).find() || !set.firstPerson.matcher(clause).find()
                    || quoted(sentence, start - sentenceStart, end - sentenceStart))) {
            return null;
        }
        boolean negated = negated(set, beforeInClause);
        boolean past = (recovered || set.past.matcher(sentence).find()) && !set.recurrence.matcher(sentence).find();
        AtRisk atRisk = rule.atRisk() != null ? rule.atRisk() : subject(set, text, sentenceStart, start, matched);
        return new Hit(rule, start, end, negated, past, atRisk);
    }

    /**
     * Whether the match lies inside double quotes in its sentence: with a topic frame around it,
     * the words are mentioned ("someone commented "kms", what does that mean?"), not said.
     */
    private static boolean quoted(String sentence, int start, int end) {
        long before = sentence.substring(0, start).chars().filter(c -> c == '"').count();
        return before % 2 == 1 && sentence.indexOf('"', end) >= 0;
    }

    /** A negation cue among the last words before the match in its clause, pseudo-negations ("not sure") aside. */
    private static boolean negated(RuleSet set, String beforeInClause) {
        String window = set.pseudoNegation.matcher(beforeInClause).replaceAll(" ");
        Matcher words = WORD.matcher(window);
        List<Integer> starts = new ArrayList<>();
        while (words.find()) {
            starts.add(words.start());
        }
        int from = starts.size() > set.negationWindowWords ? starts.get(starts.size() - set.negationWindowWords) : 0;
        return set.negation.matcher(window.substring(from)).find();
    }

    /** Who the statement is about: a reflexive in the match, else the nearest subject before it. */
    private static AtRisk subject(RuleSet set, String text, int sentenceStart, int start, String matched) {
        if (set.thirdPerson.matcher(matched).find() && !set.firstPerson.matcher(matched).find()) {
            return AtRisk.THIRD_PERSON;
        }
        if (set.firstPerson.matcher(matched).find()) {
            return AtRisk.SELF;
        }
        for (int from : new int[] {sentenceStart, Math.max(0, start - SENTENCE_REACH)}) {
            String before = text.substring(from, start);
            int first = lastStart(set.firstPerson, before);
            int third = lastStart(set.thirdPerson, before);
            if (first >= 0 || third >= 0) {
                return third >= first ? AtRisk.THIRD_PERSON : AtRisk.SELF;
            }
        }
        return AtRisk.SELF;
    }

    private static int lastStart(Pattern p, String s) {
        Matcher m = p.matcher(s);
        int last = -1;
        while (m.find()) {
            last = m.start();
        }
        return last;
    }

    private static int lastEnd(Pattern p, String text, int from, int to) {
        Matcher m = p.matcher(text).region(from, to);
        int last = from;
        while (m.find()) {
            last = m.end();
        }
        return last;
    }

    /** Where the first match of {@code p} in {@code [from, to)} starts; {@code to} when there is none. */
    private static int nextStart(Pattern p, String text, int from, int to) {
        Matcher m = p.matcher(text).region(Math.min(from, to), to).useTransparentBounds(true);
        return m.find() ? m.start() : to;
    }

    /** The language's text-speak expanded and its idioms blanked out. */
    private static String prepare(RuleSet set, String normalised, long deadlineNanos) {
        String text = substitute(set, normalised);
        for (Pattern idiom : set.idioms) {
            text = idiom.matcher(new DeadlineText(text, deadlineNanos)).replaceAll(" ~ ");
        }
        return text;
    }

    /**
     * The file's substitutions first (its curated misspellings and text-speak: "suicidle" is
     * "suicidal"), then the near misses of its key words that no list foresaw.
     */
    private static String substitute(RuleSet set, String normalised) {
        String text = normalised;
        for (RuleSet.Substitution s : set.substitutions) {
            text = s.pattern().matcher(text).replaceAll(s.replacement());
        }
        return SPACES.matcher(set.fuzzy.correct(text)).replaceAll(" ");
    }

    /**
     * Lower case, compatibility forms folded (full-width letters, ligatures), typographic quotes
     * made plain, digits and signs inside words read as letters ("k1ll", "d!e", "k!ll"), letters
     * stretched for emphasis shortened ("diiiie", "sooo").
     */
    static String normalise(String text) {
        String t = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT)
                .replace('\u2019', '\'').replace('\u2018', '\'').replace('\u02bc', '\'').replace('`', '\'')
                .replace('\u201c', '"').replace('\u201d', '"').replace('\u00ab', '"').replace('\u00bb', '"');
        t = LEET.matcher(t).replaceAll(m -> switch (m.group()) {
            case "0" -> "o";
            case "1" -> "i";
            case "3" -> "e";
            case "4", "@" -> "a";
            case "!", "|" -> "i";
            default -> "s";
        });
        t = ELONGATED.matcher(t).replaceAll(m -> {
            String letter = m.group(1);
            return VOWELS.contains(letter) ? letter : letter + letter;
        });
        return SPACES.matcher(t).replaceAll(" ");
    }
}
