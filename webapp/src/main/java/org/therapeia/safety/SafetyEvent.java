package org.therapeia.safety;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The content-free record of one request with a crisis signal: what the audit log and the
 * operator webhook receive. It names levels, categories, flags, versions, actions, the locale and
 * the model, and never any text of the conversation, nor a hash of it.
 */
public record SafetyEvent(String eventId, Instant time, Assessment assessment, String detector, String ruleSet,
                          List<String> actions, String locale, String modelId) {

    public SafetyEvent {
        actions = List.copyOf(actions);
        time = time.truncatedTo(ChronoUnit.SECONDS);
    }

    public JsonObject toJson() {
        JsonArrayBuilder categories = Json.createArrayBuilder();
        assessment.categories().forEach(c -> categories.add(c.id()));
        JsonArrayBuilder atRisk = Json.createArrayBuilder();
        assessment.atRisk().stream().map(AtRisk::id).sorted().forEach(atRisk::add);
        JsonArrayBuilder actionArray = Json.createArrayBuilder();
        actions.forEach(actionArray::add);
        return Json.createObjectBuilder()
                .add("event", "crisis_signal")
                .add("event_id", eventId)
                .add("time", time.toString())
                .add("level", assessment.level().value())
                .add("label", assessment.level().label())
                .add("categories", categories)
                .add("at_risk", atRisk)
                .add("negated", assessment.negated())
                .add("past", assessment.past())
                .add("from_history", assessment.fromHistory())
                .add("detector_failed", assessment.detectorFailed())
                .add("detector", detector)
                .add("rule_set", ruleSet)
                .add("actions", actionArray)
                .add("locale", locale)
                .add("model", modelId)
                .build();
    }
}
