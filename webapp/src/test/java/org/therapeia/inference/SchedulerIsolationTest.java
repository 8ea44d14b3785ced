package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.therapeia.Fixtures;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;

/**
 * One request's failure in the engine fails that request alone: the scheduler completes it with
 * {@link SequenceFailedException} naming the cause, while the requests decoded in the same steps
 * get exactly the tokens they get alone, and the engine thread serves on. The failure is real: a
 * copy of the untied neuralapi-tiny_qwen2 fixture (vocabulary 12) whose input embedding of one
 * token is NaN, so the request whose prompt holds that token gets NaN logits, and no other does.
 */
class SchedulerIsolationTest {

    private static final Duration LONG = Duration.ofMinutes(5);
    private static final int[][] HEALTHY = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}};
    private static final int LENGTH = 8;

    @TempDir
    Path temp;

    @Test
    void aSequenceWithNanLogitsFailsAloneAndTheOthersGetTheirOwnTokens() throws Exception {
        Path sound = Fixtures.root().resolve("hf-reference").resolve("neuralapi-tiny_qwen2");
        int[][] alone = new int[HEALTHY.length][];
        Set<Integer> fed = new HashSet<>();
        try (Engine engine = open(sound); Scheduler scheduler = start(engine)) {
            for (int i = 0; i < HEALTHY.length; i++) {
                alone[i] = scheduler.submit(HEALTHY[i], SamplingParams.greedy(LENGTH), LONG).get(60, TimeUnit.SECONDS)
                        .tokens();
                for (int t : HEALTHY[i]) {
                    fed.add(t);
                }
                for (int t : alone[i]) {
                    fed.add(t);
                }
            }
        }
        int poison = 0;
        while (fed.contains(poison)) {
            poison++;
        }
        assertTrue(poison < 12, "a token no healthy request feeds");
        Path broken = withNanEmbedding(sound, poison);

        try (Engine engine = open(broken); Scheduler scheduler = start(engine)) {
            List<CompletableFuture<Generation>> healthy = new ArrayList<>();
            CompletableFuture<Generation> bad = null;
            for (int i = 0; i < HEALTHY.length; i++) {
                healthy.add(scheduler.submit(HEALTHY[i], SamplingParams.greedy(LENGTH), LONG));
                if (i == 0) {
                    bad = scheduler.submit(new int[] {1, poison, 2}, SamplingParams.greedy(LENGTH), LONG);
                }
            }
            CompletableFuture<Generation> failed = bad;
            ExecutionException e = assertThrows(ExecutionException.class, () -> failed.get(60, TimeUnit.SECONDS));
            assertInstanceOf(SequenceFailedException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("NaN"), e.getCause().getMessage());
            for (int i = 0; i < HEALTHY.length; i++) {
                assertArrayEquals(alone[i], healthy.get(i).get(60, TimeUnit.SECONDS).tokens(), "request " + i);
            }

            // Past the service's validation, settings that overflow float32 fail nothing either.
            SamplingParams extreme = new SamplingParams(LENGTH, 1e-39, 0, 1.0, 1e-39, 7L);
            CompletableFuture<Generation> odd = scheduler.submit(new int[] {9, 8}, extreme, LONG);
            Generation next = scheduler.submit(HEALTHY[0], SamplingParams.greedy(LENGTH), LONG)
                    .get(60, TimeUnit.SECONDS);
            assertArrayEquals(alone[0], next.tokens(), "the engine serves on");
            assertTrue(odd.get(60, TimeUnit.SECONDS).tokens().length > 0);
            assertTrue(scheduler.isThreadAlive());
        }
    }

    private static Engine open(Path model) {
        return Engine.open(new EngineOptions(model, "float32", "cpu", 4, 0, 1, true));
    }

    private static Scheduler start(Engine engine) {
        return new Scheduler(engine, 4, 16, Executors.defaultThreadFactory(), System::nanoTime,
                SchedulerListener.NONE).start();
    }

    /** A copy of the model folder whose float32 input embedding row of {@code token} is NaN. */
    private Path withNanEmbedding(Path model, int token) throws IOException {
        Path copy = Files.createDirectories(temp.resolve("broken"));
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(f.getFileName().toString()));
            }
        }
        Path weights = copy.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        int headerLength = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject entry;
        try (JsonReader reader = Json.createReader(new StringReader(
                new String(bytes, 8, headerLength, StandardCharsets.UTF_8)))) {
            entry = reader.readObject().getJsonObject("model.embed_tokens.weight");
        }
        int columns = entry.getJsonArray("shape").getInt(1);
        int begin = 8 + headerLength + entry.getJsonArray("data_offsets").getInt(0) + token * columns * 4;
        ByteBuffer row = ByteBuffer.wrap(bytes, begin, columns * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < columns; c++) {
            row.putFloat(Float.NaN);
        }
        Files.write(weights, bytes);
        return copy;
    }
}
