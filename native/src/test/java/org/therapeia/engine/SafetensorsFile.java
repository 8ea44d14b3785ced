package org.therapeia.engine;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file in memory, for making broken ones in tests: an 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets}}, then the data the offsets point into.
 */
final class SafetensorsFile {

    private final JsonObject header;
    private final byte[] data;

    private SafetensorsFile(JsonObject header, byte[] data) {
        this.header = header;
        this.data = data;
    }

    static SafetensorsFile read(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String json = new String(bytes, 8, (int) length, StandardCharsets.UTF_8);
            try (JsonReader reader = Json.createReader(new StringReader(json))) {
                return new SafetensorsFile(reader.readObject(), Arrays.copyOfRange(bytes, 8 + (int) length, bytes.length));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the file, padding the header with spaces to a multiple of 8 bytes as the format asks. */
    void write(Path file) {
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (8 + json.length + 7) / 8 * 8 - 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.writeBytes(headerBytes);
        out.writeBytes(data);
        try {
            Files.write(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonObject header() {
        return header;
    }

    int dataSize() {
        return data.length;
    }

    long[] shape(String tensor) {
        return entry(tensor).getJsonArray("shape").getValuesAs(jakarta.json.JsonNumber.class).stream()
                .mapToLong(jakarta.json.JsonNumber::longValue).toArray();
    }

    /** The same bytes with one tensor's data_offsets replaced (nothing else changes). */
    SafetensorsFile withOffsets(String tensor, long begin, long end) {
        JsonObject changed = Json.createObjectBuilder(entry(tensor))
                .add("data_offsets", Json.createArrayBuilder().add(begin).add(end))
                .build();
        return new SafetensorsFile(Json.createObjectBuilder(header).add(tensor, changed).build(), data);
    }

    /** The same file with row {@code row} of the 2-D float32 {@code tensor} set to NaN (a corrupt checkpoint). */
    SafetensorsFile withNanRow(String tensor, int row) {
        JsonObject info = entry(tensor);
        if (!info.getString("dtype").equals("F32")) {
            throw new IllegalArgumentException(tensor + " is not F32");
        }
        int columns = (int) shape(tensor)[1];
        int begin = info.getJsonArray("data_offsets").getInt(0) + row * columns * 4;
        byte[] changed = data.clone();
        ByteBuffer rowBytes = ByteBuffer.wrap(changed, begin, columns * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < columns; c++) {
            rowBytes.putFloat(Float.NaN);
        }
        return new SafetensorsFile(header, changed);
    }

    /** A consistent file without {@code tensor}: the others are laid out again, contiguously. */
    SafetensorsFile without(String tensor) {
        entry(tensor);
        Map<String, Object[]> tensors = tensors();
        tensors.remove(tensor);
        return layout(tensors);
    }

    /** A consistent file in which {@code tensor} has another shape (its bytes cut or zero-padded). */
    SafetensorsFile withShape(String tensor, long... shape) {
        Map<String, Object[]> tensors = tensors();
        Object[] t = tensors.get(tensor);
        long elements = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        int elementSize = elementSize((String) t[0]);
        tensors.put(tensor, new Object[] {t[0], shape, Arrays.copyOf((byte[]) t[2], (int) (elements * elementSize))});
        return layout(tensors);
    }

    private JsonObject entry(String tensor) {
        JsonObject entry = header.getJsonObject(tensor);
        if (entry == null) {
            throw new IllegalArgumentException("no tensor " + tensor + " in the fixture");
        }
        return entry;
    }

    /** name -> {dtype, long[] shape, byte[] data}, in header order, without __metadata__. */
    private Map<String, Object[]> tensors() {
        Map<String, Object[]> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonObject info = e.getValue().asJsonObject();
            var offsets = info.getJsonArray("data_offsets");
            byte[] bytes = Arrays.copyOfRange(data, offsets.getInt(0), offsets.getInt(1));
            tensors.put(e.getKey(), new Object[] {info.getString("dtype"), shape(e.getKey()), bytes});
        }
        return tensors;
    }

    private SafetensorsFile layout(Map<String, Object[]> tensors) {
        JsonObjectBuilder newHeader = Json.createObjectBuilder();
        if (header.containsKey("__metadata__")) {
            newHeader.add("__metadata__", header.get("__metadata__"));
        }
        ByteArrayOutputStream newData = new ByteArrayOutputStream();
        for (Map.Entry<String, Object[]> e : tensors.entrySet()) {
            byte[] bytes = (byte[]) e.getValue()[2];
            JsonArrayBuilder shape = Json.createArrayBuilder();
            for (long d : (long[]) e.getValue()[1]) {
                shape.add(d);
            }
            int begin = newData.size();
            newData.writeBytes(bytes);
            newHeader.add(e.getKey(), Json.createObjectBuilder()
                    .add("dtype", (String) e.getValue()[0])
                    .add("shape", shape)
                    .add("data_offsets", Json.createArrayBuilder().add(begin).add(newData.size())));
        }
        return new SafetensorsFile(newHeader.build(), newData.toByteArray());
    }

    private static int elementSize(String dtype) {
        switch (dtype) {
            case "F32":
                return 4;
            case "F16":
            case "BF16":
                return 2;
            default:
                throw new IllegalArgumentException("dtype " + dtype);
        }
    }
}
