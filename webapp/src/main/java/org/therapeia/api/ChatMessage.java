package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * One earlier turn of the conversation.
 *
 * @param role    {@code user} or {@code assistant} (the system prompt has its own field)
 * @param content what was said
 */
@Schema(name = "ChatMessage", description = "One earlier turn of the conversation.")
public record ChatMessage(
        @Schema(required = true, enumeration = {"user", "assistant"}, type = SchemaType.STRING)
        @JsonbProperty("role") String role,
        @Schema(required = true, description = "What was said.")
        @JsonbProperty("content") String content) {

    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    public static final String SYSTEM = "system";
}
