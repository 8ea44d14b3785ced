package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The optional API key, on: the shared server runs with {@code api.key} set (the pom's
 * {@code therapeia.it.api-key}), and every other test class sends it. Off is the default, and
 * {@link ClusterIT}'s nodes run that way: their requests carry no key and are served.
 */
@Order(8)
class ApiKeyIT extends RunningService {

    private static final String REQUEST = Api.object("user_input", "Is my key needed?", "max_new_tokens", 4,
            "use_cache", false).build().toString();

    private void assertRefused(Api.Reply reply) {
        assertEquals(401, reply.status(), reply::toString);
        assertTrue(reply.contentType().startsWith("application/problem+json"), reply::toString);
        JsonObject problem = reply.json();
        assertEquals("X-API-Key", problem.getString("field"), reply::toString);
        assertTrue(reply.header("WWW-Authenticate").orElse("").startsWith("Bearer"), reply::toString);
    }

    @Test
    void inferenceWithoutTheRightKeyIsRefused() {
        Api keyless = new Api(api.base());
        assertRefused(keyless.post(Api.INFERENCE, REQUEST));
        assertRefused(keyless.post("api/v1/inference/stream", REQUEST, Map.of("Accept", "text/event-stream")));
        String key = ServerFiles.apiKey();
        for (Map<String, String> wrong : List.of(Map.of("X-API-Key", "wrong"), Map.of("X-API-Key", ""),
                Map.of("X-API-Key", key.substring(0, key.length() - 1)), Map.of("Authorization", "Bearer wrong"),
                Map.of("Authorization", "Basic " + key))) {
            assertRefused(keyless.post(Api.INFERENCE, REQUEST, wrong));
        }
    }

    @Test
    void theKeyInEitherHeaderIsServed() {
        Api keyless = new Api(api.base());
        assertEquals(200, keyless.post(Api.INFERENCE, REQUEST, Map.of("X-API-Key", ServerFiles.apiKey())).status());
        assertEquals(200, keyless.post(Api.INFERENCE, REQUEST,
                Map.of("Authorization", "Bearer " + ServerFiles.apiKey())).status());
    }

    @Test
    void healthMetricsAndTheContractNeedNoKey() {
        Api keyless = new Api(api.base());
        assertEquals(200, keyless.get("health/ready", "application/json").status());
        assertEquals(200, keyless.get("metrics?scope=application", "text/plain").status());
        assertEquals(200, keyless.get(Api.METRICS_JSON, "application/json").status());
        String openapi = keyless.get("openapi").body();
        assertTrue(openapi.contains("X-API-Key"), "the OpenAPI document declares the key: " + openapi);
    }
}
