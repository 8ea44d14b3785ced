package org.therapeia.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A model's {@code tokenizer.json} through DJL's binding of the Rust {@code tokenizers} library.
 *
 * <p>Encoding adds no special tokens (the chat template already wrote them, so adding a BOS here
 * would double it) and never truncates: DJL's default cuts input at 512 tokens without a word, so
 * truncation, padding and a maximum length are switched off explicitly. Decoding skips special
 * tokens. Thread-safe (the Rust tokenizer is immutable); close it to free the native tokenizer.
 *
 * <p>Closing frees native memory that a request thread may be reading at that moment (a redeploy
 * or SIGTERM under load), so every use holds a read lock and {@link #close()} takes the write
 * lock: it waits for the encodes and decodes in progress, and every later one is refused with a
 * {@link ShuttingDownException} instead of touching freed memory.
 */
public final class Tokenizer implements AutoCloseable {

    static {
        // DJL would otherwise try to download a native library and report usage; we ship both
        // ways out: the library is inside the tokenizers jar.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "false",
            "truncation", "false",
            "padding", "false",
            "maxLength", "-1",
            "withOverflowingTokens", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed; // guarded by lock

    private Tokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Loads {@code tokenizerJson} (a {@code tokenizer.json} file).
     *
     * @throws TokenizerException naming the file when it is missing or not a tokenizer
     */
    public static Tokenizer load(Path tokenizerJson) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new TokenizerException("tokenizer file " + tokenizerJson + " does not exist");
        }
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            return new Tokenizer(HuggingFaceTokenizer.newInstance(in, OPTIONS));
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException("cannot load tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}, special-token strings in it matched as special tokens. */
    public int[] encode(String text) {
        long[] ids;
        lock.readLock().lock();
        try {
            ensureOpen();
            Encoding encoding = tokenizer.encode(text, false, false);
            ids = encoding.getIds();
        } finally {
            lock.readLock().unlock();
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Text of {@code ids}, special tokens left out. */
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        lock.readLock().lock();
        try {
            ensureOpen();
            return tokenizer.decode(longs, true);
        } finally {
            lock.readLock().unlock();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new ShuttingDownException("the tokenizer is closed: the model is being unloaded");
        }
    }

    /** Waits for the encodes and decodes in progress, then frees the native tokenizer. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                tokenizer.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
