package org.therapeia.safety;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Word weights learned from the project's labelled messages ({@code safety/words-<language>.json},
 * written by {@code scripts/train-crisis-words.py}): how much each word, and each pair of adjacent
 * words, says that a message is risk (level 2 or more), and which category it is about.
 *
 * <p>Why beside the rules: the rules catch the phrasings somebody wrote down, and on sets written
 * afterwards by people who never read them they found only 37-57% of indirect ideation ("my parents
 * would be less stressed with me gone"). The same idea comes in many words that the weights
 * learn together ("gone", "without me", "anymore", "be here"), so they find phrasings nobody
 * wrote down. It is data like the rules, read here with no model runtime and no network; a
 * message is scored in one pass over its words.
 */
final class WordScorer {

    private static final Pattern WORD = Pattern.compile("[a-z]+");
    private static final Pattern MARKS = Pattern.compile("\\p{M}+");

    /** The level heads, lowest first: each is asked only when the one below it says yes. */
    private static final List<Level> HEADS = List.of(Level.RISK, Level.HIGH, Level.IMMINENT);

    private final String language;
    private final String version;
    /**
     * Whether the language's apostrophes are dropped ("don't" is "dont", "I'm" is "im", however a
     * person types them) or split words (elision: "j'ai" is "j ai").
     */
    private final boolean dropsApostrophes;
    /** The language's word endings cut to a stem, the first that fits ("wanted" -> "want", "muerte" -> "muert"). */
    private final List<String> endings;
    private final double threshold;
    private final double[] bias;
    private final List<Category> categories;
    private final double[] categoryBias;
    private final Map<String, Weights> features;

    /**
     * One feature's weights: toward each level head ({@link #HEADS}' order), and toward each category
     * ({@link #categories}' order).
     */
    private record Weights(double[] levels, double[] categories) {
    }

    private WordScorer(JsonObject json, String source) {
        language = json.getString("language");
        version = json.getString("version");
        JsonObject tokens = json.getJsonObject("tokens");
        String apostrophes = tokens.getString("apostrophes");
        if (!apostrophes.equals("drop") && !apostrophes.equals("split")) {
            throw new IllegalArgumentException(source + ": apostrophes must be 'drop' or 'split'");
        }
        dropsApostrophes = apostrophes.equals("drop");
        endings = tokens.getJsonArray("endings").getValuesAs(JsonString.class).stream().map(JsonString::getString).toList();
        threshold = json.getJsonNumber("threshold").doubleValue();
        if (!(threshold > 0 && threshold < 1)) {
            throw new IllegalArgumentException(source + ": threshold must be between 0 and 1");
        }
        bias = heads(json.getJsonObject("bias"), source);
        categories = json.getJsonArray("categories").getValuesAs(JsonString.class).stream()
                .map(s -> Category.of(s.getString())).toList();
        categoryBias = numbers(json.getJsonArray("category_bias"), categories.size(), source);
        JsonObject table = json.getJsonObject("features");
        features = new HashMap<>(table.size() * 2);
        table.forEach((feature, value) -> {
            JsonObject w = value.asJsonObject();
            features.put(feature, new Weights(heads(w, source),
                    numbers(w.getJsonArray("categories"), categories.size(), source)));
        });
    }

    /** The weights of {@code language}, or none where no file was trained for it. */
    static Optional<WordScorer> load(String language) {
        String resource = "safety/words-" + language + ".json";
        try (InputStream in = WordScorer.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return Optional.empty();
            }
            try (JsonReader reader = Json.createReader(in)) {
                return Optional.of(new WordScorer(reader.readObject(), resource));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** For the audit's detector version: {@code words-en@<digest of the sets it learned from>}. */
    String version() {
        return "words-" + language + "@" + version;
    }

    /** How many of the message's distinct words these weights know (the language they were learned in). */
    int knownWords(String message) {
        Set<String> known = new HashSet<>(stems(message));
        known.retainAll(features.keySet());
        return known.size();
    }

    /**
     * The probability that the message is at least {@code level} (risk, high or imminent), from its
     * features' weights.
     */
    double probability(Level level, String message) {
        return probability(level, features(message));
    }

    private double probability(Level level, Set<String> features) {
        int head = HEADS.indexOf(level);
        if (head < 0) {
            throw new IllegalArgumentException("no head for level " + level);
        }
        double z = bias[head];
        for (String feature : features) {
            Weights w = this.features.get(feature);
            if (w != null) {
                z += w.levels()[head];
            }
        }
        return 1.0 / (1.0 + Math.exp(-z));
    }

    /** What the weights read in a message: a level, and the category where the level is risk or more (else null). */
    record Reading(Level level, Category category) {
    }

    /**
     * The weights' reading of a message, from one pass over its features: level none unless the
     * risk head reaches the threshold (false positives cost a person's reply its cache and add
     * resources they did not need), then the highest head above it that reaches
     * {@code higherThreshold}, with all below it; imminent wherever the category is a medical
     * emergency (level 4 by the screener's levels: the heads, trained mostly on suicide plans and
     * acts, rank symptoms low; on a set of emergencies told by their symptoms, not trained on,
     * 34 -> 47 of 110 at level 4).
     */
    Reading read(String message, double higherThreshold) {
        Set<String> features = features(message);
        if (probability(Level.RISK, features) < threshold) {
            return new Reading(Level.NONE, null);
        }
        Level level = Level.RISK;
        for (Level head : HEADS.subList(1, HEADS.size())) {
            if (probability(head, features) < higherThreshold) {
                break;
            }
            level = head;
        }
        Category category = category(features);
        return new Reading(category == Category.MEDICAL_EMERGENCY ? Level.IMMINENT : level, category);
    }

    /** The category the weights see most in a message's features. */
    private Category category(Set<String> messageFeatures) {
        double[] z = categoryBias.clone();
        for (String feature : messageFeatures) {
            Weights w = features.get(feature);
            if (w != null) {
                for (int c = 0; c < z.length; c++) {
                    z[c] += w.categories()[c];
                }
            }
        }
        int best = 0;
        for (int c = 1; c < z.length; c++) {
            if (z[c] > z[best]) {
                best = c;
            }
        }
        return categories.get(best);
    }

    /**
     * The words' stems (the {@link #normalised} message's words, a common ending cut: {@link #stem}),
     * every pair of adjacent stems, and every pair one stem apart ("want _ die"): the trainer's
     * {@code features}, which this must equal. Why stems and the pairs apart: with a few
     * thousand labelled messages, "wanted to die", "wants to die" and "i want to die" must
     * share features ("want", "want _ die", "die") to teach one thing.
     */
    Set<String> features(String message) {
        List<String> stems = stems(message);
        Set<String> out = new LinkedHashSet<>(stems);
        for (int i = 1; i < stems.size(); i++) {
            out.add(stems.get(i - 1) + " " + stems.get(i));
        }
        for (int i = 2; i < stems.size(); i++) {
            out.add(stems.get(i - 2) + " _ " + stems.get(i));
        }
        return out;
    }

    /** The stems of the {@link #normalised} message's words (runs of letters), in order. */
    private List<String> stems(String message) {
        String text = normalised(message);
        Matcher m = WORD.matcher(dropsApostrophes ? text.replace("'", "") : text);
        List<String> stems = new ArrayList<>();
        while (m.find()) {
            stems.add(stem(m.group()));
        }
        return stems;
    }

    /**
     * Lower case, accents dropped (people type "esta" for "est\u00e1", "tote" for "t\u00f6te"), sharp s as
     * "ss": the trainer's {@code normalised}.
     */
    static String normalised(String message) {
        String decomposed = Normalizer.normalize(message.toLowerCase(Locale.ROOT).replace('\u2019', '\''),
                Normalizer.Form.NFD);
        return MARKS.matcher(decomposed).replaceAll("").replace("\u00df", "ss");
    }

    /** The first of {@link #endings} that leaves at least three letters, cut: the trainer's {@code stem}. */
    String stem(String word) {
        for (String ending : endings) {
            if (word.endsWith(ending) && word.length() - ending.length() >= 3) {
                return word.substring(0, word.length() - ending.length());
            }
        }
        return word;
    }

    /** {@code {"risk": .., "high": .., "imminent": ..}} in {@link #HEADS}' order. */
    private static double[] heads(JsonObject json, String source) {
        double[] out = new double[HEADS.size()];
        for (int i = 0; i < out.length; i++) {
            String name = HEADS.get(i).label();
            if (!json.containsKey(name)) {
                throw new IllegalArgumentException(source + ": no '" + name + "' weight");
            }
            out[i] = json.getJsonNumber(name).doubleValue();
        }
        return out;
    }

    private static double[] numbers(JsonArray array, int size, String source) {
        if (array.size() != size) {
            throw new IllegalArgumentException(source + ": expected " + size + " category weights, found " + array.size());
        }
        double[] out = new double[size];
        for (int i = 0; i < size; i++) {
            out[i] = array.getJsonNumber(i).doubleValue();
        }
        return out;
    }
}
