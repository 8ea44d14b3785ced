package org.therapeia.inference;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.therapeia.api.ChatMessage;

/**
 * One prompt's messages as the chat template gets them: every stretch of message text that could
 * be read as a control token ({@link SpecialTokens#rangesToEscape}) replaced by a placeholder, so
 * that neither the template's logic nor the tokenizer's added-token matching sees it;
 * {@link #restore} puts the text back before it is encoded as plain text
 * ({@link Tokenizer#encode(String, ContentEscapes)}).
 *
 * <p>A placeholder is {@code M nonce M index M}: {@code M} a private-use character that occurs in
 * no added token, {@code nonce} 18 random digits drawn for this prompt and found in none of its
 * messages, so no one can write a placeholder into a message. Digits and a private-use character
 * pass unchanged through what templates do to text ({@code trim}, {@code upper}, {@code lower},
 * HTML escaping) and can be part of no control token.
 */
public final class ContentEscapes {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String prefix;
    private final char mark;
    private final List<String> originals = new ArrayList<>();
    private final List<ChatMessage> messages;

    private ContentEscapes(SpecialTokens tokens, List<ChatMessage> messages) {
        this.mark = tokens.mark();
        this.prefix = mark + uniqueNonce(messages) + mark;
        List<ChatMessage> escaped = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            escaped.add(new ChatMessage(m.role(), escape(tokens, m.content())));
        }
        this.messages = List.copyOf(escaped);
    }

    /** {@code messages} with their control-token text replaced. */
    static ContentEscapes of(SpecialTokens tokens, List<ChatMessage> messages) {
        return new ContentEscapes(tokens, messages);
    }

    private static String uniqueNonce(List<ChatMessage> messages) {
        while (true) {
            String nonce = Long.toString(100_000_000_000_000_000L + Math.floorMod(RANDOM.nextLong(),
                    900_000_000_000_000_000L));
            if (messages.stream().noneMatch(m -> m.content() != null && m.content().contains(nonce))) {
                return nonce;
            }
        }
    }

    private String escape(SpecialTokens tokens, String content) {
        if (content == null) {
            return null;
        }
        List<int[]> ranges = tokens.rangesToEscape(content);
        if (ranges.isEmpty()) {
            return content;
        }
        StringBuilder out = new StringBuilder(content.length() + 32 * ranges.size());
        int at = 0;
        for (int[] r : ranges) {
            out.append(content, at, r[0]).append(prefix).append(originals.size()).append(mark);
            originals.add(content.substring(r[0], r[1]));
            at = r[1];
        }
        return out.append(content, at, content.length()).toString();
    }

    /** The messages to render, their control-token text replaced by placeholders. */
    public List<ChatMessage> messages() {
        return messages;
    }

    /** Whether no message held anything to replace (then the rendered text is the real one). */
    public boolean isEmpty() {
        return originals.isEmpty();
    }

    /** {@code text} with every intact placeholder replaced by the message text it stands for. */
    public String restore(String text) {
        if (originals.isEmpty() || !text.contains(prefix)) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int at = 0;
        for (int p = text.indexOf(prefix); p >= 0; p = text.indexOf(prefix, at)) {
            int digits = p + prefix.length();
            int end = digits;
            while (end < text.length() && end - digits < 9 && text.charAt(end) >= '0' && text.charAt(end) <= '9') {
                end++;
            }
            if (end == digits || end == text.length() || text.charAt(end) != mark) {
                out.append(text, at, digits); // a cut placeholder stays plain text
                at = digits;
                continue;
            }
            int index = Integer.parseInt(text.substring(digits, end));
            if (index >= originals.size()) {
                out.append(text, at, digits);
                at = digits;
                continue;
            }
            out.append(text, at, p).append(originals.get(index));
            at = end + 1;
        }
        return out.append(text, at, text.length()).toString();
    }
}
