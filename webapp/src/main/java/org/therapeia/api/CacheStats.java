package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The response cache as the seed reported it: entries (counted), the limit, and their ratio. */
@Schema(name = "CacheStats")
@JsonbPropertyOrder({"size", "max_size", "utilization"})
public record CacheStats(
        @JsonbProperty("size") long size,
        @Schema(name = "max_size")
        @JsonbProperty("max_size") int maxSize,
        @JsonbProperty("utilization") double utilization) {
}
