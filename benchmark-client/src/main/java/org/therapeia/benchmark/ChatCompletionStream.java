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
 * @param firstPieceNanos  from {@code startNanos} to the first chunk with content; 0 without one
 * @param malformed        an event that is not a chunk, an error or [DONE]
 */
record ChatCompletionStream(boolean done, String error, int completionTokens, long firstPieceNanos,
                            boolean malformed) {

    static final String DONE = "[DONE]";

    /** Reads events until the stream ends ({@code startNanos} on the {@link System#nanoTime()} scale). */
    static ChatCompletionStream read(Iterator<String> lines, long startNanos) {
        var heard = new Object() {
            boolean done;
            String error;
            int completionTokens = -1;
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
                    if (heard.firstPiece == 0 && hasContent(choices)) {
                        heard.firstPiece = Math.max(1, System.nanoTime() - startNanos);
                    }
                    if (chunk.get("usage") instanceof JsonObject usage
                            && usage.get("completion_tokens") instanceof JsonNumber tokens) {
                        heard.completionTokens = tokens.intValue();
                    }
                } else {
                    heard.malformed = true;
                }
            } catch (JsonException | IllegalStateException | ClassCastException e) {
                heard.malformed = true;
            }
        });
        return new ChatCompletionStream(heard.done, heard.error, heard.completionTokens, heard.firstPiece,
                heard.malformed);
    }

    private static boolean hasContent(JsonArray choices) {
        return choices.stream().anyMatch(choice -> choice instanceof JsonObject c
                && c.get("delta") instanceof JsonObject delta
                && delta.get("content") instanceof JsonString content && !content.getString().isEmpty());
    }
}
