package org.therapeia.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.therapeia.TestConfig;

/** The guard model's settings: off by default, beside the main model unless told otherwise. */
class SafetyConfigGuardTest {

    @Test
    void offByDefault() {
        SafetyConfig c = new SafetyConfig(TestConfig.config(Map.of()));
        assertEquals(Optional.empty(), c.guardModelPath());
        assertEquals(Duration.ofMillis(1000), c.guardTimeout());
        assertEquals(4, c.guardBatchSize());
        assertEquals(2048, c.guardMaxContextLength());
    }

    @Test
    void theMainModelsDeviceDtypeAndThreadsUnlessSet() {
        SafetyConfig same = new SafetyConfig(TestConfig.config(Map.of("SAFETY_GUARD_MODEL_PATH", "/models/guard",
                "DEVICE", "cuda:1", "DTYPE", "bfloat16", "ENGINE_THREADS", "3")));
        assertEquals(Optional.of(Path.of("/models/guard")), same.guardModelPath());
        assertEquals("cuda:1", same.guardDevice());
        assertEquals("bfloat16", same.guardDtype());
        assertEquals(3, same.guardThreads());
        SafetyConfig cpu = new SafetyConfig(TestConfig.config(Map.of("DEVICE", "cuda", "DTYPE", "bfloat16",
                "SAFETY_GUARD_DEVICE", "cpu", "SAFETY_GUARD_DTYPE", "float32")));
        assertEquals("cpu", cpu.guardDevice());
        assertEquals("float32", cpu.guardDtype());
    }

    @Test
    void outOfRangeValuesAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SafetyConfig(TestConfig.config(Map.of("SAFETY_GUARD_TIMEOUT_MS", "0"))));
        assertTrue(e.getMessage().contains("safety.guard.timeout-ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new SafetyConfig(TestConfig.config(Map.of("SAFETY_GUARD_MAX_CONTEXT_LENGTH", "100"))));
        assertThrows(IllegalArgumentException.class,
                () -> new SafetyConfig(TestConfig.config(Map.of("SAFETY_GUARD_BATCH_SIZE", "0"))));
    }
}
