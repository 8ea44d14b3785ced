package org.therapeia.inference;

import java.util.function.Consumer;

/**
 * A streamed reply's pieces with a fixed text sent before the first of them (the crisis
 * resources at level 3 and 4, the AI disclosure): sent only once the request has been accepted,
 * so that a request refused before generation still gets a plain problem response, not a stream.
 */
final class PrefixedPieces implements Consumer<String> {

    private final String prefix;
    private final Consumer<String> pieces;
    private boolean started;

    PrefixedPieces(String prefix, Consumer<String> pieces) {
        this.prefix = prefix;
        this.pieces = pieces;
    }

    @Override
    public synchronized void accept(String piece) {
        if (!started) {
            started = true;
            if (!prefix.isEmpty()) {
                pieces.accept(prefix);
            }
        }
        pieces.accept(piece);
    }
}
