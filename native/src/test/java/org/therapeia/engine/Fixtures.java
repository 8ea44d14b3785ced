package org.therapeia.engine;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** The third-party reference models of fixtures/hf-reference, and copies of them to corrupt. */
final class Fixtures {

    private Fixtures() {
    }

    /** {@code therapeia.fixtures} (set by Maven), else ../fixtures from the module folder. */
    static Path root() {
        String configured = System.getProperty("therapeia.fixtures");
        Path root = configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("..", "fixtures");
        return root.toAbsolutePath().normalize();
    }

    static Path model(String name) {
        Path dir = root().resolve("hf-reference").resolve(name);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("fixture model " + dir + " is missing (set -Dtherapeia.fixtures)");
        }
        return dir;
    }

    /** Copies a fixture model into {@code target} (created), writable, so a test may corrupt it. */
    static Path copyModel(String name, Path target) {
        Path source = model(name);
        try {
            Files.createDirectories(target);
            try (Stream<Path> files = Files.list(source)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Path copy = target.resolve(file.getFileName().toString());
                    Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
                    copy.toFile().setWritable(true, true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    static JsonObject readJson(Path file) {
        try (InputStream in = Files.newInputStream(file); JsonReader reader = Json.createReader(in)) {
            return reader.readObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonArray array) {
        int[] result = new int[array.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = array.getJsonNumber(i).intValue();
        }
        return result;
    }

    /** Flattens nested arrays of numbers, row-major, into doubles. */
    static double[] flatten(JsonValue value) {
        var out = new java.util.ArrayList<Double>();
        flattenInto(value, out);
        double[] result = new double[out.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = out.get(i);
        }
        return result;
    }

    private static void flattenInto(JsonValue value, java.util.List<Double> out) {
        if (value.getValueType() == JsonValue.ValueType.ARRAY) {
            for (JsonValue v : value.asJsonArray()) {
                flattenInto(v, out);
            }
        } else {
            out.add(((jakarta.json.JsonNumber) value).doubleValue());
        }
    }
}
