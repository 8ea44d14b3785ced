package org.therapeia.inference;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.stream.JsonParser;
import java.io.StringReader;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The text of a {@code tokenizer.json}, read once with a streaming parser: its {@code added_tokens}
 * and which of them the model's own vocabulary also holds. {@link #withAddedTokens} writes a copy
 * in which only the {@code added_tokens} array differs; every other byte (vocabulary, merges,
 * normaliser) is the original's, so no number or string is ever re-serialised.
 */
final class TokenizerJson {

    private static final String ADDED_TOKENS = "added_tokens";

    private final String text;
    private final int addedStart;
    private final int addedEnd;
    private final List<JsonObject> addedTokens;
    private final ModelFacts model;

    /** What the model section says: which added-token texts its vocabulary holds, its unknown token. */
    private record ModelFacts(Set<String> inVocab, String unkToken, int unkId) {
    }

    private TokenizerJson(String text, int addedStart, int addedEnd, List<JsonObject> addedTokens, ModelFacts model) {
        this.text = text;
        this.addedStart = addedStart;
        this.addedEnd = addedEnd;
        this.addedTokens = addedTokens;
        this.model = model;
    }

    /** @throws JsonException when the text is not a JSON object */
    static TokenizerJson parse(String text) {
        int start = -1;
        int end = -1;
        try (JsonParser parser = Json.createParser(new StringReader(text))) {
            if (parser.next() != JsonParser.Event.START_OBJECT) {
                throw new JsonException("not a JSON object");
            }
            while (parser.hasNext()) {
                JsonParser.Event event = parser.next();
                if (event != JsonParser.Event.KEY_NAME) {
                    continue;
                }
                String key = parser.getString();
                JsonParser.Event value = parser.next();
                if (ADDED_TOKENS.equals(key) && value == JsonParser.Event.START_ARRAY) {
                    // the parser's location is just past the event: '[' here, ']' after skipArray
                    start = Math.toIntExact(parser.getLocation().getStreamOffset()) - 1;
                    parser.skipArray();
                    end = Math.toIntExact(parser.getLocation().getStreamOffset());
                } else {
                    skip(parser, value);
                }
            }
        }
        if (start < 0) {
            return new TokenizerJson(text, -1, -1, List.of(), readModel(text, Set.of()));
        }
        if (text.charAt(start) != '[' || text.charAt(end - 1) != ']') {
            throw new JsonException("cannot locate the " + ADDED_TOKENS + " array");
        }
        JsonArray array;
        try (JsonReader reader = Json.createReader(new StringReader(text.substring(start, end)))) {
            array = reader.readArray();
        }
        List<JsonObject> added = array.getValuesAs(JsonObject.class);
        Set<String> contents = new HashSet<>();
        added.forEach(t -> contents.add(t.getString("content")));
        return new TokenizerJson(text, start, end, added, readModel(text, contents));
    }

    /**
     * Which of {@code contents} are tokens of {@code model.vocab} (an object, or Unigram's list of
     * [piece, score]), and the model's {@code unk_token} (BPE, WordPiece) or {@code unk_id} (Unigram).
     */
    private static ModelFacts readModel(String text, Set<String> contents) {
        Set<String> found = new HashSet<>();
        String unkToken = null;
        int unkId = -1;
        try (JsonParser parser = Json.createParser(new StringReader(text))) {
            parser.next();
            while (parser.hasNext()) {
                if (parser.next() != JsonParser.Event.KEY_NAME) {
                    continue;
                }
                String key = parser.getString();
                JsonParser.Event value = parser.next();
                if (!"model".equals(key) || value != JsonParser.Event.START_OBJECT) {
                    skip(parser, value);
                    continue;
                }
                while (parser.hasNext()) {
                    JsonParser.Event event = parser.next();
                    if (event == JsonParser.Event.END_OBJECT) {
                        return new ModelFacts(found, unkToken, unkId);
                    }
                    String modelKey = parser.getString();
                    JsonParser.Event modelValue = parser.next();
                    if ("vocab".equals(modelKey) && modelValue == JsonParser.Event.START_OBJECT) {
                        for (JsonParser.Event e = parser.next(); e != JsonParser.Event.END_OBJECT; e = parser.next()) {
                            if (contents.contains(parser.getString())) {
                                found.add(parser.getString());
                            }
                            skip(parser, parser.next());
                        }
                    } else if ("vocab".equals(modelKey) && modelValue == JsonParser.Event.START_ARRAY) {
                        for (JsonParser.Event e = parser.next(); e != JsonParser.Event.END_ARRAY; e = parser.next()) {
                            // [piece, score]
                            if (e == JsonParser.Event.START_ARRAY) {
                                if (parser.next() == JsonParser.Event.VALUE_STRING
                                        && contents.contains(parser.getString())) {
                                    found.add(parser.getString());
                                }
                                parser.skipArray();
                            } else {
                                skip(parser, e);
                            }
                        }
                    } else if ("unk_token".equals(modelKey) && modelValue == JsonParser.Event.VALUE_STRING) {
                        unkToken = parser.getString();
                    } else if ("unk_id".equals(modelKey) && modelValue == JsonParser.Event.VALUE_NUMBER) {
                        unkId = parser.getInt();
                    } else {
                        skip(parser, modelValue);
                    }
                }
            }
        }
        return new ModelFacts(found, unkToken, unkId);
    }

    private static void skip(JsonParser parser, JsonParser.Event value) {
        if (value == JsonParser.Event.START_OBJECT) {
            parser.skipObject();
        } else if (value == JsonParser.Event.START_ARRAY) {
            parser.skipArray();
        }
    }

    /** The entries of {@code added_tokens}, in file order (the order the Rust library assigns ids in). */
    List<JsonObject> addedTokens() {
        return addedTokens;
    }

    /** Whether the model's vocabulary holds {@code content}: an added token of that text takes the vocabulary's id. */
    boolean inModelVocab(String content) {
        return model.inVocab().contains(content);
    }

    /** The text of the model's token for unknown text ({@code unk_token}), or null. */
    String unkToken() {
        return model.unkToken();
    }

    /** The id of the model's token for unknown text where the model gives an id (Unigram's {@code unk_id}), or -1. */
    int unkId() {
        return model.unkId();
    }

    /** The original text with {@code added_tokens} replaced. */
    String withAddedTokens(JsonArray replacement) {
        if (addedStart < 0) {
            int brace = text.indexOf('{');
            return text.substring(0, brace + 1) + "\"" + ADDED_TOKENS + "\":" + replacement + ","
                    + text.substring(brace + 1);
        }
        return text.substring(0, addedStart) + replacement.toString() + text.substring(addedEnd);
    }

    String text() {
        return text;
    }
}
