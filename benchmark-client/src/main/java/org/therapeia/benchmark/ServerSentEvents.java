package org.therapeia.benchmark;

import java.util.Iterator;

/**
 * Server-sent events read from a response's lines as they arrive, by the rules both of the
 * service's streams need: {@code event:} names an event (default {@code message}), {@code data:}
 * lines join with newlines, a line starting with {@code :} is a comment, and a blank line ends an
 * event, which is heard only if it had data (a comment alone is no event).
 */
final class ServerSentEvents {

    /** Hears each event as it ends. */
    @FunctionalInterface
    interface Listener {
        void event(String name, String data);
    }

    private ServerSentEvents() {
    }

    /** Reads until the lines end; an event without its closing blank line is never heard. */
    static void read(Iterator<String> lines, Listener listener) {
        String name = "message";
        StringBuilder data = null;
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.isEmpty()) {
                if (data != null) {
                    listener.event(name, data.toString());
                }
                name = "message";
                data = null;
            } else if (line.startsWith("event:")) {
                name = value(line, 6);
            } else if (line.startsWith("data:")) {
                data = data == null ? new StringBuilder() : data.append('\n');
                data.append(value(line, 5));
            }
        }
    }

    /** A field's value: after its colon and one optional space. */
    private static String value(String line, int colonEnd) {
        return line.startsWith(" ", colonEnd) ? line.substring(colonEnd + 1) : line.substring(colonEnd);
    }
}
