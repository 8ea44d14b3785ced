package org.therapeia.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.therapeia.api.ChatMessage;
import org.therapeia.engine.SamplingParams;

/**
 * The response cache's key: the SHA-256 (hex) of everything that decides a reply, normalised so
 * that requests differing only in Unicode form or spacing share an entry: text in NFKC with runs
 * of whitespace collapsed to one space and trimmed. The model id, system prompt, the history
 * window actually used and the generation parameters are all part of it. No text is kept: only
 * the hash.
 */
public final class CacheKey {

    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private CacheKey() {
    }

    /** NFKC, whitespace runs to one space, trimmed. */
    public static String normalise(String text) {
        if (text == null) {
            return "";
        }
        String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC);
        return WHITESPACE.matcher(nfkc).replaceAll(" ").strip();
    }

    /**
     * @param history the history window (the last context_window messages), oldest first
     * @param params  the effective generation parameters
     */
    public static String of(String modelId, String systemPrompt, List<ChatMessage> history, String userInput,
                            SamplingParams params) {
        return of(modelId, systemPrompt, history, userInput, params, List.of());
    }

    /** @param stop the request's stop strings (exact: a stop string is matched as it is written) */
    public static String of(String modelId, String systemPrompt, List<ChatMessage> history, String userInput,
                            SamplingParams params, List<String> stop) {
        MessageDigest sha = sha256();
        field(sha, "v1");
        field(sha, modelId);
        field(sha, normalise(systemPrompt));
        field(sha, Integer.toString(history.size()));
        for (ChatMessage m : history) {
            field(sha, m.role());
            field(sha, normalise(m.content()));
        }
        field(sha, normalise(userInput));
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
        // greedy decoding ignores the seed; sampling depends on it
        field(sha, params.temperature() == 0 ? "-" : Long.toString(params.seed()));
        return HexFormat.of().formatHex(sha.digest());
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
