package org.therapeia.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to load a model.
 *
 * @param modelDir   a Hugging Face model folder (config.json, safetensors)
 * @param dtype      compute dtype: {@code float32}, {@code bfloat16}, {@code float16}, or {@code int8}
 *                   (8-bit linear weights quantized at load, float32 activations; CPU only)
 * @param device     {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param maxSlots   sequences decoded together (KV cache slots); further sequences wait
 * @param maxContext tokens per sequence (prompt + generated); 0 = the model's limit, at most 4096
 * @param threads    intra-op threads of the engine thread; 0 = the CPUs this process may use (its
 *                   affinity mask, capped by its cgroup CPU quota)
 * @param prefixCache keep a finished sequence's KV in its slot ("warm"), so that a later prompt
 *                   starting with the same token ids (the next turn of a conversation) computes
 *                   only the rest
 */
public record EngineOptions(Path modelDir, String dtype, String device, int maxSlots, int maxContext, int threads,
                            boolean prefixCache) {

    public EngineOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(device, "device");
    }

    /** float32 on the CPU, 8 slots, the model's context, the CPUs this process may use, prefix cache on. */
    public static EngineOptions defaults(Path modelDir) {
        return new EngineOptions(modelDir, "float32", "cpu", 8, 0, 0, true);
    }

    public EngineOptions withDtype(String value) {
        return new EngineOptions(modelDir, value, device, maxSlots, maxContext, threads, prefixCache);
    }

    public EngineOptions withDevice(String value) {
        return new EngineOptions(modelDir, dtype, value, maxSlots, maxContext, threads, prefixCache);
    }

    public EngineOptions withMaxSlots(int value) {
        return new EngineOptions(modelDir, dtype, device, value, maxContext, threads, prefixCache);
    }

    public EngineOptions withMaxContext(int value) {
        return new EngineOptions(modelDir, dtype, device, maxSlots, value, threads, prefixCache);
    }

    public EngineOptions withThreads(int value) {
        return new EngineOptions(modelDir, dtype, device, maxSlots, maxContext, value, prefixCache);
    }

    public EngineOptions withPrefixCache(boolean value) {
        return new EngineOptions(modelDir, dtype, device, maxSlots, maxContext, threads, value);
    }
}
