package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A token event's data written without JSON-B is what JSON-B writes: the wire format does not change. */
class TextPieceTest {

    private static final Jsonb JSONB = JsonbBuilder.create();

    @ParameterizedTest
    @ValueSource(strings = {"Hi", " there", "", "\"quoted\" and \\back\\slashed", "line\nbreak\r\ttab",
            "\u0000\u0001\u001f control", "caf\u00e9 \u00fcber \u4f60\u597d", "\ud83d\ude00 emoji", "</script>",
            "\u2028\u2029 separators", "a/b"})
    void jsonIsWhatJsonbWrites(String text) {
        TextPiece piece = new TextPiece(text);
        assertEquals(JSONB.toJson(piece), piece.json());
    }
}
