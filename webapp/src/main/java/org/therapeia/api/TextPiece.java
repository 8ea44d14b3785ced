package org.therapeia.api;

import jakarta.json.Json;
import jakarta.json.bind.annotation.JsonbProperty;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The data of a streamed reply's {@code token} event: the text generated since the last one. */
@Schema(name = "TextPiece", description = "Text of a streamed reply since the previous token event; "
        + "the pieces concatenate to the done event's response, which is authoritative.")
public record TextPiece(@JsonbProperty("text") String text) {

    /**
     * The event's data, {@code {"text":"..."}}, as JSON-B writes this record, but written by
     * JSON-P: a stream sends one per piece, and JSON-B's per-object machinery (finding the
     * serializer, the model of the record) cost more than the piece itself.
     */
    public String json() {
        return Json.createObjectBuilder().add("text", text).build().toString();
    }
}
