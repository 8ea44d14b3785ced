package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The reply of {@code POST /api/v1/inference}, as the seed defines it. */
@Schema(name = "InferenceResponse")
@JsonbPropertyOrder({"response", "latency", "cache_hit", "tokens_generated", "metadata"})
public record InferenceResponse(
        @Schema(description = "The model's reply.")
        @JsonbProperty("response") String response,
        @Schema(description = "Seconds from arrival to the reply.")
        @JsonbProperty("latency") double latency,
        @Schema(name = "cache_hit", description = "Whether the reply came from the response cache.")
        @JsonbProperty("cache_hit") boolean cacheHit,
        @Schema(name = "tokens_generated", description = "Tokens in the reply.")
        @JsonbProperty("tokens_generated") int tokensGenerated,
        @JsonbProperty("metadata") InferenceMetadata metadata) {
}
