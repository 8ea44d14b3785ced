package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model folders made up here: small JSON files and real safetensors layouts. */
class ModelFingerprintTest {

    @TempDir
    Path tmp;

    private static String fingerprint(Path dir) {
        return ModelFingerprint.of(dir, "float32", "cpu", 2048);
    }

    /** A safetensors file: 8-byte little-endian header length, JSON header, then the data. */
    private static void safetensors(Path file, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        Files.write(file, b.array());
    }

    private static String header(String tensor, int rows, int cols) {
        return "{\"" + tensor + "\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0,"
                + 4 * rows * cols + "]}}";
    }

    private static byte[] data(int bytes, int seed) {
        byte[] d = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            d[i] = (byte) (i * 31 + seed);
        }
        return d;
    }

    private Path model(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"hidden_size\":2}");
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\":2}");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"BPE\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\":\"{{ messages }}\"}");
        safetensors(dir.resolve("model.safetensors"), header("w", 2, 2), data(16, 0));
        return dir;
    }

    private static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    @Test
    void isAStableSha256() throws IOException {
        Path m = model("m");
        assertTrue(fingerprint(m).matches("[0-9a-f]{64}"));
        assertEquals(fingerprint(m), fingerprint(m));
    }

    @Test
    void aRenamedOrMovedFolderKeepsItsFingerprint() throws IOException {
        Path m = model("m");
        Path elsewhere = copy(m, tmp.resolve("upgraded").resolve("therapeia-model"));
        assertEquals(fingerprint(m), fingerprint(elsewhere));
        assertEquals(fingerprint(m), fingerprint(Files.move(m, tmp.resolve("renamed"))));
    }

    @Test
    void everyDescriptionFileCounts() throws IOException {
        String base = fingerprint(model("m"));
        for (String file : new String[] {"config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}) {
            Path m = copy(model("base-" + file), tmp.resolve("changed-" + file));
            Files.writeString(m.resolve(file), "{\"changed\":true}");
            assertNotEquals(base, fingerprint(m), file + " changed or added");
        }
        Path noGeneration = copy(model("base-missing"), tmp.resolve("missing"));
        Files.delete(noGeneration.resolve("generation_config.json"));
        assertNotEquals(base, fingerprint(noGeneration), "generation_config.json removed");
    }

    @Test
    void aChangedWeightHeaderChangesIt() throws IOException {
        String base = fingerprint(model("m"));
        Path reshaped = model("reshaped");
        safetensors(reshaped.resolve("model.safetensors"), header("w", 4, 1), data(16, 0));
        assertNotEquals(base, fingerprint(reshaped), "same bytes, another shape");
        Path renamedTensor = model("renamed-tensor");
        safetensors(renamedTensor.resolve("model.safetensors"), header("v", 2, 2), data(16, 0));
        assertNotEquals(base, fingerprint(renamedTensor));
    }

    @Test
    void changedWeightsWithTheSameHeaderChangeIt() throws IOException {
        // a fine-tune: the same header and size, other values
        String base = fingerprint(model("m"));
        Path tuned = model("tuned");
        safetensors(tuned.resolve("model.safetensors"), header("w", 2, 2), data(16, 7));
        assertNotEquals(base, fingerprint(tuned));

        // large enough to be sampled rather than read whole (1 MiB of data)
        int rows = 512;
        int cols = 512;
        Path big = model("big");
        safetensors(big.resolve("model.safetensors"), header("w", rows, cols), data(4 * rows * cols, 0));
        Path bigTuned = model("big-tuned");
        safetensors(bigTuned.resolve("model.safetensors"), header("w", rows, cols), data(4 * rows * cols, 1));
        assertNotEquals(fingerprint(big), fingerprint(bigTuned));
        Path bigCopy = copy(big, tmp.resolve("big-copy"));
        assertEquals(fingerprint(big), fingerprint(bigCopy));
        // one changed byte inside a sampled block (the first bytes of the data)
        byte[] first = data(4 * rows * cols, 0);
        first[0] ^= 1;
        safetensors(bigCopy.resolve("model.safetensors"), header("w", rows, cols), first);
        assertNotEquals(fingerprint(big), fingerprint(bigCopy));
    }

    @Test
    void shardedWeightsCountEveryShardAndTheIndex() throws IOException {
        Path m = model("sharded");
        Files.delete(m.resolve("model.safetensors"));
        String index = "{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\"}}";
        Files.writeString(m.resolve("model.safetensors.index.json"), index);
        safetensors(m.resolve("model-00001-of-00002.safetensors"), header("a", 2, 2), data(16, 0));
        safetensors(m.resolve("model-00002-of-00002.safetensors"), header("b", 2, 2), data(16, 1));
        String base = fingerprint(m);

        Path other = copy(m, tmp.resolve("sharded-2"));
        safetensors(other.resolve("model-00002-of-00002.safetensors"), header("b", 4, 1), data(16, 1));
        assertNotEquals(base, fingerprint(other), "second shard's header");

        Path reindexed = copy(m, tmp.resolve("sharded-3"));
        Files.writeString(reindexed.resolve("model.safetensors.index.json"), index.replace("{}", "{\"v\":1}"));
        assertNotEquals(base, fingerprint(reindexed), "the index itself");

        // a stray file the engine does not read changes nothing
        Path stray = copy(m, tmp.resolve("sharded-4"));
        safetensors(stray.resolve("consolidated.safetensors"), header("x", 2, 2), data(16, 3));
        assertEquals(base, fingerprint(stray));
    }

    @Test
    void dtypeDeviceKindAndContextCount() throws IOException {
        Path m = model("m");
        String base = ModelFingerprint.of(m, "float32", "cpu", 2048);
        assertNotEquals(base, ModelFingerprint.of(m, "bfloat16", "cpu", 2048));
        assertNotEquals(base, ModelFingerprint.of(m, "float32", "cuda", 2048));
        assertNotEquals(base, ModelFingerprint.of(m, "float32", "cpu", 1024));
        assertEquals(ModelFingerprint.of(m, "bfloat16", "cuda:0", 2048), ModelFingerprint.of(m, "bfloat16", "cuda:1", 2048),
                "which GPU of a kind does not change a reply");
        assertEquals(base, ModelFingerprint.of(m, " Float32 ", "CPU", 2048));
    }

    @Test
    void malformedWeightFilesAreNamed() throws IOException {
        Path m = model("bad");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
        Files.write(m.resolve("model.safetensors"), b.array());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fingerprint(m));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());

        Path shortFile = model("short");
        Files.write(shortFile.resolve("model.safetensors"), Arrays.copyOf(new byte[] {1}, 3));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> fingerprint(shortFile)).getMessage()
                .contains("model.safetensors"));

        Path badIndex = model("bad-index");
        Files.writeString(badIndex.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"../x\"}}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> fingerprint(badIndex)).getMessage()
                .contains("model.safetensors.index.json"));
    }
}
