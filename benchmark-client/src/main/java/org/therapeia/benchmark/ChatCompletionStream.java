package org.therapeia.benchmark;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.StringReader;
import java.util.Iterator;

/**
 * What a streamed chat completion said, read as its chunks arrive: OpenAI's framing, each event
 * {@code data: <chunk>}, the usage in a last chunk without choices ({@code include_usage}), then
 * {@code data: [DONE]}; a failure after the stream began is a {@code data: {"error": ...}} event.
 *
 * @param done             {@code [DONE]} arrived
 * @param error            the error event's {@code code} (else its {@code type}, else "unknown"); null without one
 * @param completionTokens the usage chunk's {@code completion_tokens}; -1 without one
 * @param prompt           the usage chunk's prompt tokens, {@link PromptUsage#UNKNOWN} without one
 * @param content          the first choice's content, the deltas joined (what a conversation sends back)
 * @param firstPieceNanos  from {@code startNanos} to the first chunk with content; 0 without one
 * @param malformed        an event that is not a chunk, an error or [DONE]
 */
record ChatCompletionStream(boolean done, String error, int completionTokens, PromptUsage prompt, String content,
                            long firstPieceNanos, boolean malformed) {

    static final String DONE = "[DONE]";

    /** Reads events until the stream ends ({@code startNanos} on the {@link System#nanoTime()} scale). */
    static ChatCompletionStream read(Iterator<String> lines, long startNanos) {
        var heard = new Object() {
            boolean done;
            String error;
            int completionTokens = -1;
            PromptUsage prompt = PromptUsage.UNKNOWN;
            final StringBuilder content = new StringBuilder();
            long firstPiece;
            boolean malformed;
        };
        ServerSentEvents.read(lines, (name, data) -> {
            if (data.equals(DONE)) {
                heard.done = true;
                return;
            }
            try (JsonReader reader = Json.createReader(new StringReader(data))) {
                JsonObject chunk = reader.readObject();
                if (chunk.get("error") instanceof JsonObject error) {
                    heard.error = error.get("code") instanceof JsonString code ? code.getString()
                            : error.get("type") instanceof JsonString type ? type.getString() : "unknown";
                } else if (chunk.get("choices") instanceof JsonArray choices) {
                    String piece = content(choices);
                    if (heard.firstPiece == 0 && !piece.isEmpty()) {
                        heard.firstPiece = Math.max(1, System.nanoTime() - startNanos);
                    }
                    heard.content.append(piece);
                    if (chunk.get("usage") instanceof JsonObject usage
                            && usage.get("completion_tokens") instanceof JsonNumber tokens) {
                        heard.completionTokens = tokens.intValue();
                        heard.prompt = PromptUsage.of(usage);
                    }
                } else {
                    heard.malformed = true;
                }
            } catch (JsonException | IllegalStateException | ClassCastException e) {
                heard.malformed = true;
            }
        });
        return new ChatCompletionStream(heard.done, heard.error, heard.completionTokens, heard.prompt,
                heard.content.toString(), heard.firstPiece, heard.malformed);
    }

    /** The first choice's delta content; "" without one (the service sends one choice). */
    private static String content(JsonArray choices) {
        return !choices.isEmpty() && choices.get(0) instanceof JsonObject c
                && c.get("delta") instanceof JsonObject delta
                && delta.get("content") instanceof JsonString content ? content.getString() : "";
    }
}
