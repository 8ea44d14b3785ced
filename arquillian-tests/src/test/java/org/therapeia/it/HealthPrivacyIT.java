package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Health responses carry states and figures, never file paths or exception text: those go to the
 * server log. Load balancers, probes and dashboards read health without authentication.
 *
 * <p>Checked on the shared server, healthy, and on a Payara Micro node of the test's own
 * ({@link PayaraMicroNode}) whose model fails to load: a folder named by a unique marker with the
 * default model's config and tokenizer files but a truncated {@code model.safetensors}, so the
 * engine's error names the file and the folder. Every data value of every check must be a state
 * (an upper-case word), a number or a boolean; neither the marker, the folder's path, the file's
 * name nor an exception's name may appear anywhere in the response; and the node's log must hold
 * the cause (which shows that there was something to keep out).
 */
@Order(9)
class HealthPrivacyIT extends RunningService {

    private static final List<String> ENDPOINTS = List.of("health", "health/ready", "health/live", "health/started");
    private static final Pattern STATE_OR_FIGURE = Pattern.compile(
            "[A-Z][A-Z_]*|-?[0-9]+(\\.[0-9]+)?([eE]-?[0-9]+)?|NaN|-?Infinity|true|false");
    private static final List<String> NEVER = List.of("/", "\\", "Exception", "Error", "safetensors", ".json",
            "at org.", "at java.");
    private static final Duration FAILURE_LIMIT = Duration.ofMinutes(3);

    @Test
    void aHealthyServiceShowsStatesAndFiguresOnly() {
        for (String endpoint : ENDPOINTS) {
            Api.Reply reply = api.get(endpoint, "application/json");
            assertEquals(200, reply.status(), () -> endpoint + ": " + reply);
            assertStatesAndFiguresOnly(endpoint, reply, List.of(ServerFiles.model().toString()));
        }
    }

    @Test
    void aModelThatFailedToLoadShowsItsStateNotItsCause() throws IOException {
        Path dir = ServerFiles.path("therapeia.it.dir").resolve("health-privacy");
        ServerFiles.deleteTree(dir);
        String marker = "brokenmodel" + UUID.randomUUID().toString().replace("-", "");
        Path model = Files.createDirectories(dir.resolve(marker));
        for (String file : new String[] {"config.json", "generation_config.json", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json"}) {
            Path from = ServerFiles.model().resolve(file);
            if (Files.exists(from)) {
                Files.copy(from, model.resolve(file));
            }
        }
        byte[] weights = Files.readAllBytes(ServerFiles.model().resolve("model.safetensors"));
        Files.write(model.resolve("model.safetensors"), Arrays.copyOf(weights, 64));

        try (PayaraMicroNode node = PayaraMicroNode.start("health-privacy", dir, List.of("-Dmodel.path=" + model))) {
            node.await("health/started", r -> r.status() == 503 && r.body().contains("FAILED"), FAILURE_LIMIT);
            List<String> secrets = List.of(marker, model.toString(), dir.toString());
            Map<String, Integer> expected = Map.of("health", 503, "health/ready", 503, "health/live", 200,
                    "health/started", 503);
            for (String endpoint : ENDPOINTS) {
                Api.Reply reply = node.api.get(endpoint, "application/json");
                assertEquals(expected.get(endpoint), reply.status(), () -> endpoint + ": " + reply);
                assertStatesAndFiguresOnly(endpoint, reply, secrets);
            }
            JsonObject ready = check(node.api.get("health/ready", "application/json"), "model");
            assertEquals("DOWN", ready.getString("status"));
            assertEquals("FAILED", ready.getJsonObject("data").getString("state"), ready::toString);
            assertFalse(HealthMetricsIT.bool(ready.getJsonObject("data"), "model_loaded"), ready::toString);

            String log = node.log();
            assertTrue(log.contains(marker) && log.contains("model.safetensors"),
                    "the cause, with the model's path, is in the server log " + node.logFile);
            // requests are refused with the state, not the cause, too
            Api.Reply refused = node.api.post(Api.INFERENCE, "{\"user_input\": \"hello\"}");
            assertEquals(503, refused.status(), refused::toString);
            for (String secret : secrets) {
                assertFalse(refused.body().contains(secret), refused::toString);
            }
        }
    }

    private static JsonObject check(Api.Reply reply, String name) {
        return reply.json().getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(c -> c.getString("name").equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + reply));
    }

    /** Every data value a state, a number or a boolean; no secret, path or exception anywhere in the body. */
    private static void assertStatesAndFiguresOnly(String endpoint, Api.Reply reply, List<String> secrets) {
        String body = reply.body();
        for (String secret : secrets) {
            assertFalse(body.contains(secret), () -> endpoint + " shows " + secret + ": " + body);
        }
        for (String word : NEVER) {
            assertFalse(body.contains(word), () -> endpoint + " shows '" + word + "': " + body);
        }
        List<JsonObject> checks = reply.json().getJsonArray("checks").getValuesAs(JsonObject.class);
        assertFalse(checks.isEmpty(), () -> endpoint + ": no checks: " + body);
        List<String> offending = new ArrayList<>();
        for (JsonObject c : checks) {
            JsonObject data = c.containsKey("data") ? c.getJsonObject("data") : JsonValue.EMPTY_JSON_OBJECT;
            data.forEach((key, value) -> {
                boolean ok = switch (value.getValueType()) {
                    case NUMBER, TRUE, FALSE -> true;
                    case STRING -> STATE_OR_FIGURE.matcher(((JsonString) value).getString()).matches();
                    default -> false;
                };
                if (!ok) {
                    offending.add(c.getString("name") + "." + key + " = " + value);
                }
            });
        }
        assertTrue(offending.isEmpty(), () -> endpoint + ": not a state or a figure: " + offending);
    }
}
