package org.therapeia.benchmark;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonReader;
import java.io.StringReader;
import java.util.Iterator;

/**
 * What a streamed reply's server-sent events said, read line by line as they arrive: the
 * {@code done} event's data, or the status of its {@code error} event, and when the first
 * {@code token} event came.
 *
 * @param done            the done event's data (the plain endpoint's reply object); null without one
 * @param error           the error event's problem status ("504"); null without one
 * @param firstPieceNanos from {@code startNanos} to the first token event; 0 without one
 */
record StreamedReply(String done, String error, long firstPieceNanos) {

    /** Reads events until the stream ends ({@code startNanos} on the {@link System#nanoTime()} scale). */
    static StreamedReply read(Iterator<String> lines, long startNanos) {
        String name = "message";
        StringBuilder data = new StringBuilder();
        String done = null;
        String error = null;
        long firstPiece = 0;
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                data.append(data.length() > 0 ? "\n" : "").append(line.substring(line.startsWith("data: ") ? 6 : 5));
            } else if (line.isEmpty()) { // an event ends (a comment line alone carries none)
                if (name.equals("token") && firstPiece == 0) {
                    firstPiece = Math.max(1, System.nanoTime() - startNanos);
                } else if (name.equals("done")) {
                    done = data.toString();
                } else if (name.equals("error")) {
                    error = status(data.toString());
                }
                name = "message";
                data.setLength(0);
            }
        }
        return new StreamedReply(done, error, firstPiece);
    }

    private static String status(String problem) {
        try (JsonReader reader = Json.createReader(new StringReader(problem))) {
            return reader.readObject().get("status") instanceof JsonNumber n ? n.toString() : "unknown";
        } catch (JsonException | IllegalStateException e) {
            return "unknown";
        }
    }
}
