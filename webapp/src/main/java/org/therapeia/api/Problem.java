package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * An RFC 7807 problem body ({@code application/problem+json}). {@code field} names the request
 * field (or header) at fault when there is one. Details never quote what the user or the model wrote.
 */
@Schema(name = "Problem", description = "RFC 7807 problem details.")
@JsonbPropertyOrder({"type", "title", "status", "detail", "field"})
public record Problem(
        @JsonbProperty("type") String type,
        @JsonbProperty("title") String title,
        @JsonbProperty("status") int status,
        @JsonbProperty("detail") String detail,
        @Schema(description = "The request field (or header, e.g. X-API-Key) at fault, if any.", nullable = true)
        @JsonbProperty("field") String field) {

    public static final String MEDIA_TYPE = "application/problem+json";
    public static final MediaType MEDIA_TYPE_TYPE = new MediaType("application", "problem+json");

    private static final String TYPE_BASE = "urn:therapeia:problem:";

    public static Problem of(String slug, String title, int status, String detail, String field) {
        return new Problem(TYPE_BASE + slug, title, status, detail, field);
    }
}
