package org.therapeia.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to load a model.
 *
 * @param modelDir   a Hugging Face model folder (config.json, safetensors)
 * @param dtype      compute dtype: {@code float32}, {@code bfloat16} or {@code float16}
 * @param device     {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param maxSlots   sequences decoded together (KV cache slots); further sequences wait
 * @param maxContext tokens per sequence (prompt + generated); 0 = the model's limit, at most 4096
 * @param threads    intra-op threads of the engine thread; 0 = the CPUs this process may use (its
 *                   affinity mask, capped by its cgroup CPU quota)
 */
public record EngineOptions(Path modelDir, String dtype, String device, int maxSlots, int maxContext, int threads) {

    public EngineOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(device, "device");
    }

    /** float32 on the CPU, 8 slots, the model's context, the CPUs this process may use. */
    public static EngineOptions defaults(Path modelDir) {
        return new EngineOptions(modelDir, "float32", "cpu", 8, 0, 0);
    }

    public EngineOptions withDtype(String value) {
        return new EngineOptions(modelDir, value, device, maxSlots, maxContext, threads);
    }

    public EngineOptions withDevice(String value) {
        return new EngineOptions(modelDir, dtype, value, maxSlots, maxContext, threads);
    }

    public EngineOptions withMaxSlots(int value) {
        return new EngineOptions(modelDir, dtype, device, value, maxContext, threads);
    }

    public EngineOptions withMaxContext(int value) {
        return new EngineOptions(modelDir, dtype, device, maxSlots, value, threads);
    }

    public EngineOptions withThreads(int value) {
        return new EngineOptions(modelDir, dtype, device, maxSlots, maxContext, value);
    }
}
