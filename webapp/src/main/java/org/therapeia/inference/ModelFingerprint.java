package org.therapeia.inference;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The identity of a loaded model, for the response cache's keys: a SHA-256 over what decides the
 * model's replies, so that a changed model never answers with another model's cached replies,
 * while the same model in another folder (another mount path, another pod) shares them.
 *
 * <p>What it covers, each part named and length-prefixed:
 * <ul>
 *   <li>{@code config.json}, {@code generation_config.json}, {@code tokenizer.json},
 *       {@code tokenizer_config.json}, {@code special_tokens_map.json} and
 *       {@code chat_template.jinja}: their whole contents, or that they are absent;</li>
 *   <li>the weight files the engine reads (the shards named by
 *       {@code model.safetensors.index.json}, else {@code model.safetensors}): the index's
 *       contents, and per file its name, its size, its safetensors header (the JSON giving every
 *       tensor's name, dtype, shape and offsets) and {@value #SAMPLES} blocks of
 *       {@value #SAMPLE_BYTES} bytes spread evenly over its tensor data (all of it when the data
 *       is smaller than that). The samples are there because a fine-tuned model has its base
 *       model's headers byte for byte; the whole data is not hashed because a model can be tens
 *       of GB, read again at every start;</li>
 *   <li>the compute dtype; the device kind, {@code cpu} or {@code cuda} (different kernels round
 *       differently; the ordinal of {@code cuda:N} changes nothing); and the context limit (a
 *       shorter one drops history a longer one keeps).</li>
 * </ul>
 * Not covered: the folder's path or name, file times, {@code model.id}. A change that touches
 * only weight bytes between the samples goes unseen: clear the cache after such an upgrade.
 */
public final class ModelFingerprint {

    static final int SAMPLES = 64;
    static final int SAMPLE_BYTES = 4096;
    /** The safetensors format's own limit on a header. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final String INDEX = "model.safetensors.index.json";
    private static final String SINGLE = "model.safetensors";
    private static final List<String> DESCRIPTION_FILES = List.of("config.json", "generation_config.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja");

    private ModelFingerprint() {
    }

    /**
     * @param dir        the model folder, as the engine loaded it
     * @param dtype      the compute dtype ({@code float32}, {@code bfloat16}, {@code float16}, {@code int8})
     * @param device     {@code cpu}, {@code cuda} or {@code cuda:N}
     * @param maxContext tokens per sequence the engine allows
     * @return 64 hex digits
     * @throws UncheckedIOException naming the file that could not be read
     * @throws IllegalArgumentException naming the file whose header or index is malformed
     */
    public static String of(Path dir, String dtype, String device, int maxContext) {
        MessageDigest sha = sha256();
        field(sha, "therapeia-model-fingerprint-v1");
        for (String name : DESCRIPTION_FILES) {
            Path file = dir.resolve(name);
            field(sha, name);
            field(sha, Files.isRegularFile(file) ? read(file) : "absent".getBytes(StandardCharsets.US_ASCII));
        }
        Path index = dir.resolve(INDEX);
        SortedSet<String> weightFiles = new TreeSet<>();
        if (Files.isRegularFile(index)) {
            byte[] indexBytes = read(index);
            field(sha, INDEX);
            field(sha, indexBytes);
            weightFiles.addAll(shards(index, indexBytes));
        } else {
            weightFiles.add(SINGLE);
        }
        for (String name : weightFiles) {
            weights(sha, dir.resolve(name), name);
        }
        field(sha, "dtype");
        field(sha, dtype.strip().toLowerCase(Locale.ROOT));
        field(sha, "device");
        field(sha, deviceKind(device));
        field(sha, "max_context");
        field(sha, Integer.toString(maxContext));
        return HexFormat.of().formatHex(sha.digest());
    }

    /** {@code cuda:1} and {@code cuda} are the same kind of device. */
    static String deviceKind(String device) {
        String d = device.strip().toLowerCase(Locale.ROOT);
        int colon = d.indexOf(':');
        return colon < 0 ? d : d.substring(0, colon);
    }

    /** The shard file names of an index's weight_map, as the engine reads them. */
    private static SortedSet<String> shards(Path index, byte[] bytes) {
        SortedSet<String> names = new TreeSet<>();
        try (JsonReader reader = Json.createReader(new StringReader(new String(bytes, StandardCharsets.UTF_8)))) {
            JsonObject weightMap = reader.readObject().getJsonObject("weight_map");
            if (weightMap == null) {
                throw new IllegalArgumentException(index + ": field 'weight_map' is missing");
            }
            for (Map.Entry<String, JsonValue> e : weightMap.entrySet()) {
                if (!(e.getValue() instanceof JsonString shard) || shard.getString().contains("/")) {
                    throw new IllegalArgumentException(index + ": the shard of tensor '" + e.getKey()
                            + "' must be a file name");
                }
                names.add(shard.getString());
            }
        } catch (JsonException | ClassCastException e) {
            throw new IllegalArgumentException(index + " is not a valid index: " + e.getMessage(), e);
        }
        return names;
    }

    /** Name, size, header and sampled data of one safetensors file. */
    private static void weights(MessageDigest sha, Path file, String name) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            field(sha, name);
            field(sha, Long.toString(size));
            if (size < 8) {
                throw new IllegalArgumentException(file + " is too short for a safetensors file (" + size + " bytes)");
            }
            long headerLength = readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new IllegalArgumentException(file + " declares a header of " + Long.toUnsignedString(headerLength)
                        + " bytes in a file of " + size);
            }
            field(sha, bytes(readFully(ch, 8, (int) headerLength)));
            long dataStart = 8 + headerLength;
            long dataLength = size - dataStart;
            if (dataLength <= (long) SAMPLES * SAMPLE_BYTES) {
                sample(sha, ch, dataStart, (int) dataLength);
            } else {
                long span = dataLength - SAMPLE_BYTES;
                for (int i = 0; i < SAMPLES; i++) {
                    sample(sha, ch, dataStart + span * i / (SAMPLES - 1), SAMPLE_BYTES);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " for the model fingerprint: " + e.getMessage(), e);
        }
    }

    private static void sample(MessageDigest sha, FileChannel ch, long offset, int length) throws IOException {
        field(sha, Long.toString(offset));
        field(sha, bytes(readFully(ch, offset, length)));
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (ch.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file at byte " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " for the model fingerprint: " + e.getMessage(), e);
        }
    }

    private static void field(MessageDigest sha, String value) {
        field(sha, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Length-prefixed, so that no two different sequences of fields hash alike. */
    private static void field(MessageDigest sha, byte[] value) {
        sha.update(ByteBuffer.allocate(8).putLong(value.length).array());
        sha.update(value);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
