package org.therapeia.benchmark;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonReader;
import java.io.StringReader;
import java.util.Iterator;

/**
 * What the seed API's streamed reply said, read as its events arrive: the {@code done} event's
 * data, or the status of its {@code error} event, and when the first {@code token} event came.
 *
 * @param done            the done event's data (the plain endpoint's reply object); null without one
 * @param error           the error event's problem status ("504"); null without one
 * @param firstPieceNanos from {@code startNanos} to the first token event; 0 without one
 */
record StreamedReply(String done, String error, long firstPieceNanos) {

    /** Reads events until the stream ends ({@code startNanos} on the {@link System#nanoTime()} scale). */
    static StreamedReply read(Iterator<String> lines, long startNanos) {
        var heard = new Object() {
            String done;
            String error;
            long firstPiece;
        };
        ServerSentEvents.read(lines, (name, data) -> {
            if (name.equals("token") && heard.firstPiece == 0) {
                heard.firstPiece = Math.max(1, System.nanoTime() - startNanos);
            } else if (name.equals("done")) {
                heard.done = data;
            } else if (name.equals("error")) {
                heard.error = status(data);
            }
        });
        return new StreamedReply(heard.done, heard.error, heard.firstPiece);
    }

    private static String status(String problem) {
        try (JsonReader reader = Json.createReader(new StringReader(problem))) {
            return reader.readObject().get("status") instanceof JsonNumber n ? n.toString() : "unknown";
        } catch (JsonException | IllegalStateException e) {
            return "unknown";
        }
    }
}
