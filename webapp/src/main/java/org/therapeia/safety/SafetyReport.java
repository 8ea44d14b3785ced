package org.therapeia.safety;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * {@code metadata.safety} of every reply: the request's level and the crisis resources the reply
 * carries, so that the calling application can act too. No text of the conversation.
 */
@Schema(name = "SafetyReport", description = "The crisis-signal level of the request and the resources the reply carries.")
@JsonbPropertyOrder({"level", "label", "categories", "resources"})
public record SafetyReport(
        @Schema(description = "0 none, 1 distress, 2 risk, 3 high, 4 imminent.", minimum = "0", maximum = "4")
        @JsonbProperty("level") int level,
        @Schema(description = "none, distress, risk, high or imminent.",
                enumeration = {"none", "distress", "risk", "high", "imminent"})
        @JsonbProperty("label") String label,
        @Schema(description = "suicide, self_harm, harm_to_others, abuse, medical_emergency, distress.")
        @JsonbProperty("categories") List<String> categories,
        @Schema(description = "Crisis resources for the request's locale (level 2 or more), emergency number first.")
        @JsonbProperty("resources") List<Resource> resources) {

    /** One crisis resource as a reply names it. */
    @Schema(name = "SafetyResource")
    @JsonbPropertyOrder({"name", "phone", "sms", "url"})
    public record Resource(@JsonbProperty("name") String name, @JsonbProperty("phone") String phone,
                           @JsonbProperty("sms") String sms, @JsonbProperty("url") String url) {
    }
}
