package org.therapeia.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import org.therapeia.api.ChatMessage;
import org.therapeia.engine.SamplingParams;

/**
 * What decides a reply, digested: the model's identity (its fingerprint, never its folder name),
 * the system prompt, the history window actually used, the user input and the generation
 * parameters. Text exactly as the model reads it: a normalised key (NFKC, whitespace collapsed)
 * let one client's reply to "Ｉ ｆｅｅｌ ｓａｄ" or "I\n\nfeel sad", which the model reads as other tokens
 * and answers differently, be served to everyone who wrote "I feel sad", so a client could pick,
 * among such spellings, the reply others would get.
 *
 * <p>This digest is computable by anyone who knows the request, so it is never stored or shown:
 * the cache stores entries under a keyed hash of it ({@link CacheSecret#storedKey}), which
 * nobody without the secret can compute. It holds no text.
 */
public final class CacheKey {

    private final byte[] digest;

    private CacheKey(byte[] digest) {
        this.digest = digest;
    }

    /**
     * @param modelFingerprint the loaded model's {@code ModelFingerprint}
     * @param history          the history the prompt keeps (HistoryWindow), oldest first
     * @param params           the effective generation parameters
     */
    public static CacheKey of(String modelFingerprint, String systemPrompt, List<ChatMessage> history,
                              String userInput, SamplingParams params) {
        return of(modelFingerprint, systemPrompt, history, userInput, params, List.of(), true, null);
    }

    /**
     * @param stop   the request's stop strings (exact: a stop string is matched as it is written)
     * @param seeded whether the request chose {@code params.seed()}: sampled replies without a chosen
     *               seed are as good as any other and share one entry, apart from every chosen seed's
     * @param scope  who may share the entry: null for everyone, else only requests with this same
     *               value (the request's cache_salt where {@code prefix_cache.scope} is isolated)
     */
    public static CacheKey of(String modelFingerprint, String systemPrompt, List<ChatMessage> history,
                              String userInput, SamplingParams params, List<String> stop, boolean seeded,
                              String scope) {
        MessageDigest sha = sha256();
        field(sha, "v3");
        // "-" is no scope's value: a scoped field is "=" followed by the value
        field(sha, scope == null ? "-" : "=" + scope);
        field(sha, modelFingerprint);
        field(sha, systemPrompt == null ? "" : systemPrompt);
        field(sha, Integer.toString(history.size()));
        for (ChatMessage m : history) {
            field(sha, m.role());
            field(sha, m.content());
        }
        field(sha, userInput);
        field(sha, Integer.toString(params.maxNewTokens()));
        field(sha, Double.toString(params.temperature()));
        field(sha, Integer.toString(params.topK()));
        field(sha, Double.toString(params.topP()));
        field(sha, Double.toString(params.repetitionPenalty()));
        field(sha, Double.toString(params.frequencyPenalty()));
        field(sha, Double.toString(params.presencePenalty()));
        field(sha, Integer.toString(stop.size()));
        for (String s : stop) {
            field(sha, s);
        }
        // greedy decoding ignores the seed; sampling depends on it ("any": no number, so no chosen seed meets it)
        field(sha, params.temperature() == 0 ? "-" : seeded ? Long.toString(params.seed()) : "any");
        return new CacheKey(sha.digest());
    }

    /** The SHA-256 digest (a copy). */
    byte[] digest() {
        return digest.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey other && MessageDigest.isEqual(digest, other.digest);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(digest);
    }

    /** Never the digest: a key must not end up in a log. */
    @Override
    public String toString() {
        return "CacheKey[...]";
    }

    /** Length-prefixed, so that ("ab", "c") and ("a", "bc") differ. */
    private static void field(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        sha.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
        sha.update((byte) ':');
        sha.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
