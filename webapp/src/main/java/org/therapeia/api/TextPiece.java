package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The data of a streamed reply's {@code token} event: the text generated since the last one. */
@Schema(name = "TextPiece", description = "Text of a streamed reply since the previous token event; "
        + "the pieces concatenate to the done event's response, which is authoritative.")
public record TextPiece(@JsonbProperty("text") String text) {
}
