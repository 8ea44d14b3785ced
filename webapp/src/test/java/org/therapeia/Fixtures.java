package org.therapeia;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Where the third-party fixtures are (../fixtures, or -Dtherapeia.fixtures) and how to read them. */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path root() {
        String configured = System.getProperty("therapeia.fixtures");
        Path path = configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("..", "fixtures");
        return path.toAbsolutePath().normalize();
    }

    public static Path tokenizerCases() {
        return root().resolve("tokenizer-cases");
    }

    public static Path tinyLlama() {
        return root().resolve("hf-reference").resolve("ferrl-tiny_llama");
    }

    public static JsonObject readJson(Path file) {
        try (JsonReader reader = Json.createReader(Files.newBufferedReader(file))) {
            return reader.readObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** JSON to plain Java values (maps, lists, strings, numbers, booleans, null). */
    public static Object toJava(JsonValue value) {
        switch (value.getValueType()) {
            case OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                value.asJsonObject().forEach((k, v) -> map.put(k, toJava(v)));
                return map;
            }
            case ARRAY: {
                List<Object> list = new ArrayList<>();
                for (JsonValue v : (JsonArray) value) {
                    list.add(toJava(v));
                }
                return list;
            }
            case STRING:
                return ((JsonString) value).getString();
            case NUMBER: {
                JsonNumber n = (JsonNumber) value;
                return n.isIntegral() ? (Object) n.longValue() : (Object) n.doubleValue();
            }
            case TRUE:
                return Boolean.TRUE;
            case FALSE:
                return Boolean.FALSE;
            default:
                return null;
        }
    }
}
