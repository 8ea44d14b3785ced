package org.therapeia.cache;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.StringReader;

/**
 * A complete, successful reply as the cache holds it. Stored as a JSON string rather than a Java
 * object: a cluster member, or this WAR after a redeploy (a new class loader), can always read a
 * String, never a class it did not load.
 */
public record CachedReply(String response, int tokensGenerated, int inputTokens, int historyMessages,
                          String finishReason) {

    public String toJson() {
        return Json.createObjectBuilder()
                .add("response", response)
                .add("tokens_generated", tokensGenerated)
                .add("input_tokens", inputTokens)
                .add("history_messages", historyMessages)
                .add("finish_reason", finishReason)
                .build()
                .toString();
    }

    public static CachedReply fromJson(String json) {
        try (JsonReader reader = Json.createReader(new StringReader(json))) {
            JsonObject o = reader.readObject();
            return new CachedReply(o.getString("response"), o.getInt("tokens_generated"), o.getInt("input_tokens"),
                    o.getInt("history_messages"), o.getString("finish_reason"));
        }
    }
}
