package org.therapeia.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.therapeia.api.ChatMessage;

/**
 * A model's {@code tokenizer.json} through DJL's binding of the Rust {@code tokenizers} library.
 *
 * <p>Control tokens come only from the chat template. A prompt is encoded the way Hugging Face
 * encodes a rendered chat template, except that the text of the messages never matches a special
 * token: {@code <|im_start|>} written by a user is the plain text {@code <|im_start|>}, the ids
 * Hugging Face gives with {@code split_special_tokens=True}. Two tokenizers are loaded from the
 * same file: the model's own, which reads the template's text (special tokens recognised) and
 * decodes; and a "plain" one whose special tokens are taken out of its added vocabulary (their
 * ids kept for the added tokens after them), which reads the stretches of text between the
 * template's control tokens, messages included. Non-special added tokens (Gemma's whitespace
 * runs, Qwen3's {@code <think>}) are vocabulary and match in both, as in Hugging Face.
 * See {@link #encode(String, ContentEscapes)}.
 *
 * <p>Encoding adds no special tokens (the chat template already wrote them, so adding a BOS here
 * would double it) and never truncates: DJL's default cuts input at 512 tokens without a word, so
 * truncation, padding and a maximum length are switched off explicitly. Decoding skips special
 * tokens. Thread-safe (the Rust tokenizers are immutable); close it to free the native tokenizers.
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

    /** U+F0000, a private-use character: the stand-ins of the plain tokenizer start and end with it. */
    private static final String PRIVATE_USE = "\uDB80\uDC00";

    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "false",
            "truncation", "false",
            "padding", "false",
            "maxLength", "-1",
            "withOverflowingTokens", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final HuggingFaceTokenizer plain;
    private final SpecialTokens specialTokens;
    /** The random text every stand-in of the plain tokenizer starts with. */
    private final String stand;
    /** A special token only the plain tokenizer has, written before a stretch that does not start the prompt. */
    private final String sentinel;
    private final long sentinelId;
    /** The model's id for unknown text when it is a special token (plain text may yield it), else -1. */
    private final long unkId;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed; // guarded by lock

    private Tokenizer(HuggingFaceTokenizer tokenizer, HuggingFaceTokenizer plain, SpecialTokens specialTokens,
                      String stand, String sentinel, long sentinelId, long unkId) {
        this.tokenizer = tokenizer;
        this.plain = plain;
        this.specialTokens = specialTokens;
        this.stand = stand;
        this.sentinel = sentinel;
        this.sentinelId = sentinelId;
        this.unkId = unkId;
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
        HuggingFaceTokenizer model = null;
        HuggingFaceTokenizer plain = null;
        try {
            TokenizerJson json = TokenizerJson.parse(Files.readString(tokenizerJson, StandardCharsets.UTF_8));
            // random per load and never shown: no text can hold it
            String stand = PRIVATE_USE + HexFormat.of().formatHex(randomBytes(16));
            boolean normalizedSpecial = json.addedTokens().stream()
                    .anyMatch(t -> t.getBoolean("special", false) && t.getBoolean("normalized", true));
            model = open(normalizedSpecial ? json.withAddedTokens(specialsMatchedAsWritten(json)) : json.text());
            plain = open(json.withAddedTokens(withoutSpecials(json, stand)));
            String sentinel = stand + PRIVATE_USE;

            Map<String, Integer> specialIds = new HashMap<>();
            List<String> added = new ArrayList<>();
            for (JsonObject t : json.addedTokens()) {
                String content = t.getString("content");
                added.add(content);
                if (t.getBoolean("special", false) && !content.isEmpty()) {
                    specialIds.put(content, Math.toIntExact(onlyId(model, content, tokenizerJson)));
                } else if (!content.isEmpty()
                        && !Arrays.equals(model.encode(content, false, false).getIds(),
                                plain.encode(content, false, false).getIds())) {
                    throw new TokenizerException("added token " + content + " of " + tokenizerJson
                            + " would change its id without the special tokens");
                }
            }
            SpecialTokens specialTokens = new SpecialTokens(specialIds, added);
            long sentinelId = onlyId(plain, sentinel, tokenizerJson);
            long unkId = json.unkId() >= 0 ? json.unkId()
                    : specialIds.getOrDefault(json.unkToken() == null ? "" : json.unkToken(), -1);
            return new Tokenizer(model, plain, specialTokens, stand, sentinel, sentinelId, unkId);
        } catch (IOException | RuntimeException e) {
            if (model != null) {
                model.close();
            }
            if (plain != null) {
                plain.close();
            }
            if (e instanceof TokenizerException t) {
                throw t;
            }
            throw new TokenizerException("cannot load tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static HuggingFaceTokenizer open(String json) throws IOException {
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                OPTIONS);
    }

    private static long onlyId(HuggingFaceTokenizer tokenizer, String token, Path file) {
        long[] ids = tokenizer.encode(token, false, false).getIds();
        if (ids.length != 1) {
            throw new TokenizerException("added token " + token + " of " + file + " does not encode to one id");
        }
        return ids[0];
    }

    /**
     * The added tokens, special ones matched in the text as written ({@code normalized: false}):
     * what {@link SpecialTokens} looks for in messages. Hugging Face writes special tokens so;
     * a file that marks one normalised (matched after the normaliser, so {@code <S>} could become
     * {@code <s>}) gets it matched as written.
     */
    private static JsonArray specialsMatchedAsWritten(TokenizerJson json) {
        JsonArrayBuilder out = Json.createArrayBuilder();
        for (JsonObject t : json.addedTokens()) {
            out.add(t.getBoolean("special", false) ? Json.createObjectBuilder(t).add("normalized", false)
                    : Json.createObjectBuilder(t));
        }
        return out.build();
    }

    /**
     * The added tokens without the special ones, every other keeping its id: the Rust library gives
     * an added token the model vocabulary's id when the vocabulary holds its text and else the
     * next free id in file order, so a special token outside the vocabulary is replaced by a
     * stand-in no text contains ({@code stand-N}, which takes the same id), one inside it is
     * dropped. Then the sentinel ({@code stand} alone). None is a prefix of another.
     */
    private static JsonArray withoutSpecials(TokenizerJson json, String stand) {
        JsonArrayBuilder out = Json.createArrayBuilder();
        int index = 0;
        for (JsonObject t : json.addedTokens()) {
            index++;
            if (!t.getBoolean("special", false)) {
                out.add(t);
            } else if (!json.inModelVocab(t.getString("content"))) {
                out.add(Json.createObjectBuilder(t).add("content", stand + "-" + index + PRIVATE_USE));
            }
        }
        return out.add(Json.createObjectBuilder().add("id", 0).add("content", stand + PRIVATE_USE)
                .add("single_word", false).add("lstrip", false).add("rstrip", false).add("normalized", false)
                .add("special", true)).build();
    }

    /**
     * Token ids of {@code text}, special-token strings in it matched as control tokens: for text
     * a chat template wrote.
     */
    int[] encode(String text) {
        return whileOpen(() -> toInts(tokenizer.encode(text, false, false).getIds()));
    }

    /**
     * The messages of one prompt, prepared for its chat template: text that could be read as a
     * control token is held back ({@link ContentEscapes}) until {@link #encode(String, ContentEscapes)}.
     */
    public ContentEscapes escape(List<ChatMessage> messages) {
        return ContentEscapes.of(specialTokens, messages);
    }

    /**
     * Token ids of a prompt the chat template rendered from {@code escapes.messages()} (unpaired
     * surrogates read as U+FFFD): its
     * control tokens are those the template wrote, and the text between them (the template's and
     * the messages', placeholders restored) is encoded as plain text, each stretch as Hugging Face
     * encodes the text between two added tokens (a SentencePiece "▁" only at the prompt's start).
     *
     * @throws TokenizerException if message text still came out as a control token (a tokenizer
     *                            whose model holds control tokens as ordinary pieces): the prompt
     *                            is refused rather than sent
     */
    public int[] encode(String rendered, ContentEscapes escapes) {
        return whileOpen(() -> encodePrompt(rendered, escapes));
    }

    private int[] encodePrompt(String rendered, ContentEscapes escapes) {
        String text = wellFormed(rendered);
        Encoding encoding = tokenizer.encode(text, false, false);
        long[] ids = encoding.getIds();
        CharSpan[] spans = encoding.getCharTokenSpans();
        CodePoints positions = new CodePoints(text);
        if (escapes.isEmpty()) {
            // no message holds a control token's text, whole or cut: the template wrote every one
            for (int i = 0; i < ids.length; i++) {
                if (specialTokens.isSpecial(Math.toIntExact(ids[i])) && ids[i] != unkId
                        && !writtenAsText(text, positions, spans[i], ids[i])) {
                    throw controlTokenFromText(ids[i]);
                }
            }
            return toInts(ids);
        }
        List<long[]> parts = new ArrayList<>();
        int stretchStart = 0;
        for (int i = 0; i < ids.length; i++) {
            if (specialTokens.isSpecial(Math.toIntExact(ids[i])) && writtenAsText(text, positions, spans[i], ids[i])) {
                parts.add(plainIds(wellFormed(escapes.restore(text.substring(stretchStart,
                        positions.charIndex(spans[i].getStart())))), stretchStart == 0));
                parts.add(new long[] {ids[i]});
                stretchStart = positions.charIndex(spans[i].getEnd());
            }
        }
        parts.add(plainIds(wellFormed(escapes.restore(text.substring(stretchStart))), stretchStart == 0));
        int total = parts.stream().mapToInt(p -> p.length).sum();
        int[] out = new int[total];
        int at = 0;
        for (long[] part : parts) {
            for (long id : part) {
                out[at++] = Math.toIntExact(id);
            }
        }
        return out;
    }

    /**
     * {@code text} with every unpaired surrogate (a JSON string may hold one: "\\ud800") replaced by
     * U+FFFD: the Rust library would read such a string lossily, and its offsets, counted in code
     * points, would no longer match the Java string's.
     */
    private static String wellFormed(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (out != null) {
                    out.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (out == null) {
                    out = new StringBuilder(text.length()).append(text, 0, i);
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** Whether the token at {@code span} is an added-token match: its text there is the token's text. */
    private boolean writtenAsText(String text, CodePoints positions, CharSpan span, long id) {
        return span != null && text.substring(positions.charIndex(span.getStart()), positions.charIndex(span.getEnd()))
                .contains(specialTokens.text(Math.toIntExact(id)));
    }

    /** Ids of {@code stretch} as plain text, as the stretch between two control tokens (or at the prompt's start). */
    private long[] plainIds(String stretch, boolean startsPrompt) {
        if (stretch.isEmpty()) {
            return new long[0];
        }
        if (stretch.contains(stand)) {
            throw new TokenizerException("prompt text holds the plain tokenizer's random stand-in");
        }
        long[] ids = plain.encode(startsPrompt ? stretch : sentinel + stretch, false, false).getIds();
        if (!startsPrompt) {
            if (ids.length == 0 || ids[0] != sentinelId) {
                throw new TokenizerException("the plain tokenizer did not keep its sentinel");
            }
            ids = Arrays.copyOfRange(ids, 1, ids.length);
        }
        for (long id : ids) {
            if (specialTokens.isSpecial(Math.toIntExact(id)) && id != unkId) {
                throw controlTokenFromText(id);
            }
        }
        return ids;
    }

    private static TokenizerException controlTokenFromText(long id) {
        return new TokenizerException("message text encodes to the control token id " + id
                + ": this tokenizer's model holds control tokens as ordinary pieces");
    }

    /** Text of {@code ids}, special tokens left out. */
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return whileOpen(() -> tokenizer.decode(longs, true));
    }

    /** Runs {@code use} of the native tokenizers unless they are closed; close() waits for it. */
    private <T> T whileOpen(Supplier<T> use) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new ShuttingDownException("the tokenizer is closed: the model is being unloaded");
            }
            return use.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Waits for the encodes and decodes in progress, then frees the native tokenizers. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                tokenizer.close();
                plain.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The Rust library's offsets count Unicode code points; Java strings count UTF-16 chars. */
    private static final class CodePoints {
        private final int[] charIndex;

        CodePoints(String text) {
            if (text.codePointCount(0, text.length()) == text.length()) {
                charIndex = null;
                return;
            }
            charIndex = new int[text.codePointCount(0, text.length()) + 1];
            int c = 0;
            for (int i = 0; i < text.length(); i = text.offsetByCodePoints(i, 1)) {
                charIndex[c++] = i;
            }
            charIndex[c] = text.length();
        }

        int charIndex(int codePoint) {
            return charIndex == null ? codePoint : charIndex[codePoint];
        }
    }
}
