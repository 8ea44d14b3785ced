package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/** MicroProfile Health, both metrics endpoints and OpenAPI, after some traffic. */
@Order(5)
class HealthMetricsIT extends RunningService {

    private JsonObject check(String path, String name) {
        Api.Reply reply = api.get(path, "application/json");
        assertEquals(200, reply.status(), () -> path + ": " + reply);
        JsonObject health = reply.json();
        assertEquals("UP", health.getString("status"), health::toString);
        return health.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(c -> c.getString("name").equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + health));
    }

    @Test
    void healthChecksCarryTheSeedsFields() {
        api.inferOk(Api.object("user_input", "Health test.", "max_new_tokens", 4).build());

        JsonObject ready = check("health/ready", "model");
        assertEquals("UP", ready.getString("status"));
        JsonObject data = ready.getJsonObject("data");
        for (String field : new String[] {"model_loaded", "uptime_seconds", "total_requests", "avg_latency",
                "p95_latency", "cache_hit_rate", "meets_sla", "state"}) {
            assertTrue(data.containsKey(field), () -> "readiness data lacks " + field + ": " + data);
        }
        assertEquals("READY", data.getString("state"));
        assertTrue(bool(data, "model_loaded"), data::toString);
        assertTrue(number(data, "uptime_seconds") > 0);
        assertTrue(number(data, "total_requests") >= 1, data::toString);
        assertTrue(number(data, "avg_latency") > 0, data::toString);
        assertTrue(number(data, "p95_latency") > 0, data::toString);
        double hitRate = number(data, "cache_hit_rate");
        assertTrue(hitRate >= 0 && hitRate <= 1, data::toString);

        JsonObject started = check("health/started", "model-load");
        assertEquals(10, (int) number(started.getJsonObject("data"), "warmup_submitted"),
                "all warmup.requests (10) submitted: " + started);

        JsonObject live = check("health/live", "engine-thread");
        assertTrue(bool(live.getJsonObject("data"), "thread_alive"), live::toString);

        assertEquals(200, api.get("health", "application/json").status(), "/health: all checks");
    }

    /** Payara prints health data values as strings; accept a JSON boolean too. */
    static boolean bool(JsonObject data, String field) {
        JsonValue v = data.get(field);
        return v == JsonValue.TRUE || (v.getValueType() == JsonValue.ValueType.STRING
                && Boolean.parseBoolean(data.getString(field)));
    }

    /** Health data values are strings or JSON numbers/booleans depending on the type given; read either. */
    static double number(JsonObject data, String field) {
        JsonValue v = data.get(field);
        return switch (v.getValueType()) {
            case NUMBER -> data.getJsonNumber(field).doubleValue();
            case STRING -> Double.parseDouble(data.getString(field));
            default -> throw new AssertionError(field + " is not a number: " + v);
        };
    }

    @Test
    void seedMetricsJsonHasSaneValues() {
        api.inferOk(Api.object("user_input", "Metrics test.", "max_new_tokens", 4).build());
        api.inferOk(Api.object("user_input", "Metrics test.", "max_new_tokens", 4).build()); // a hit
        JsonObject m = api.get(Api.METRICS_JSON, "application/json").json();
        for (String field : new String[] {"total_requests", "avg_latency", "p50_latency", "p95_latency", "p99_latency",
                "cache_hit_rate", "cache_stats", "meets_sla"}) {
            assertTrue(m.containsKey(field), () -> "missing " + field + ": " + m);
        }
        assertTrue(m.getJsonNumber("total_requests").longValue() >= 2, m::toString);
        double p50 = m.getJsonNumber("p50_latency").doubleValue();
        double p95 = m.getJsonNumber("p95_latency").doubleValue();
        double p99 = m.getJsonNumber("p99_latency").doubleValue();
        assertTrue(p50 > 0 && p50 <= p95 && p95 <= p99, "ordered percentiles in seconds: " + m);
        assertTrue(p99 < 120, "seconds, not milliseconds: " + m);
        assertTrue(m.getJsonNumber("avg_latency").doubleValue() > 0);
        double hitRate = m.getJsonNumber("cache_hit_rate").doubleValue();
        assertTrue(hitRate > 0 && hitRate < 1, "some hits, some misses: " + m);
        JsonObject stats = m.getJsonObject("cache_stats");
        long size = stats.getJsonNumber("size").longValue();
        int max = stats.getInt("max_size");
        assertEquals(1000, max);
        assertTrue(size >= 1 && size <= max, m::toString);
        assertEquals((double) size / max, stats.getJsonNumber("utilization").doubleValue(), 1e-9);
        assertTrue(m.get("meets_sla") == JsonValue.TRUE || m.get("meets_sla") == JsonValue.FALSE);
    }

    @Test
    void prometheusMetricsArePresentWithSaneValues() {
        api.inferOk(Api.object("user_input", "Prometheus test.", "use_cache", false, "max_new_tokens", 8).build());
        Map<String, Double> m = api.prometheus();
        for (String name : new String[] {"therapeia_request_latency_milliseconds_count",
                "therapeia_time_to_first_token_milliseconds_count", "therapeia_generation_tokens_per_second_count",
                "therapeia_engine_batch_size_count", "therapeia_engine_step_microseconds_count",
                "therapeia_tokens_generated_total", "therapeia_cache_hits_total", "therapeia_cache_misses_total",
                "therapeia_queue_depth", "therapeia_running_sequences", "therapeia_kv_slots_in_use",
                "therapeia_kv_slots_total", "therapeia_last_batch_size", "therapeia_cache_size",
                "therapeia_cache_max_size"}) {
            assertFalse(Double.isNaN(Api.sample(m, name)), () -> name + " missing from /metrics?scope=application");
        }
        assertTrue(Api.sample(m, "therapeia_request_latency_milliseconds_count", "cache=\"miss\"") >= 1);
        double latencyMean = Api.sample(m, "therapeia_request_latency_milliseconds_mean", "cache=\"miss\"");
        assertTrue(latencyMean > 0 && latencyMean < 120_000, "milliseconds: " + latencyMean);
        assertTrue(Api.sample(m, "therapeia_tokens_generated_total") >= 8);
        assertTrue(Api.sample(m, "therapeia_generation_tokens_per_second_mean") > 0);
        assertTrue(Api.sample(m, "therapeia_engine_step_microseconds_mean") > 0);
        assertEquals(8.0, Api.sample(m, "therapeia_kv_slots_total"), "batch_size slots");
        double inUse = Api.sample(m, "therapeia_kv_slots_in_use");
        assertTrue(inUse >= 0 && inUse <= 8);
        assertEquals(0.0, Api.sample(m, "therapeia_queue_depth"), "idle: nothing waits");
        assertEquals(1000.0, Api.sample(m, "therapeia_cache_max_size"));
        assertTrue(Api.sample(m, "therapeia_cache_size") >= 0);
        assertTrue(Api.sample(m, "therapeia_cache_misses_total") >= 1);
    }

    @Test
    void openApiListsTheEndpointsAndFields() {
        Api.Reply reply = api.get("openapi", "application/json");
        assertEquals(200, reply.status(), reply::toString);
        JsonObject doc = reply.json();
        JsonObject paths = doc.getJsonObject("paths");
        assertTrue(paths.getJsonObject("/api/v1/inference").containsKey("post"), paths::toString);
        assertTrue(paths.getJsonObject("/api/v1/metrics").containsKey("get"), paths::toString);
        assertTrue(paths.getJsonObject("/api/v1/cache/clear").containsKey("post"), paths::toString);
        JsonObject schemas = doc.getJsonObject("components").getJsonObject("schemas");
        JsonObject request = schemas.getJsonObject("InferenceRequest").getJsonObject("properties");
        for (String field : new String[] {"user_input", "conversation_history", "system_prompt", "use_cache",
                "max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "seed"}) {
            assertTrue(request.containsKey(field), () -> "InferenceRequest." + field + " undocumented");
        }
        JsonObject response = schemas.getJsonObject("InferenceResponse").getJsonObject("properties");
        for (String field : new String[] {"response", "latency", "cache_hit", "tokens_generated", "metadata"}) {
            assertTrue(response.containsKey(field), () -> "InferenceResponse." + field + " undocumented");
        }
        JsonObject history = request.getJsonObject("conversation_history");
        assertEquals("array", history.getString("type"), history::toString);
        // Payara puts the item's fields in items, in a $ref, or (6.2025.10) beside the array type
        JsonObject item = history.containsKey("items") ? history.getJsonObject("items") : history;
        if (item.containsKey("$ref")) {
            item = schemas.getJsonObject(item.getString("$ref").replace("#/components/schemas/", ""));
        }
        assertTrue(item.getJsonObject("properties").containsKey("role")
                && item.getJsonObject("properties").containsKey("content"), "history items documented: " + history);
        JsonObject metadata = schemas.getJsonObject("InferenceMetadata").getJsonObject("properties");
        assertTrue(metadata.containsKey("generation_time") && metadata.containsKey("input_tokens"),
                metadata.keySet()::toString);
        JsonObject report = schemas.getJsonObject("MetricsReport").getJsonObject("properties");
        for (String field : new String[] {"total_requests", "avg_latency", "p50_latency", "p95_latency", "p99_latency",
                "cache_hit_rate", "cache_stats", "meets_sla"}) {
            assertTrue(report.containsKey(field), () -> "MetricsReport." + field + " undocumented");
        }
        assertTrue(schemas.containsKey("Problem") && schemas.containsKey("MetricsReport"), schemas.keySet()::toString);
    }

    /** YAML by default and for the YAML media types (labelled with the one asked for), JSON for JSON. */
    @Test
    void openApiAnswersYamlOrJsonAsAsked() {
        for (String accept : new String[] {"application/yaml", "text/yaml", "application/x-yaml",
                "application/yaml, application/json;q=0.5"}) {
            Api.Reply yaml = api.get("openapi", accept);
            assertEquals(200, yaml.status(), () -> accept + ": " + yaml);
            String expected = accept.split(",")[0];
            assertTrue(yaml.contentType().startsWith(expected), () -> accept + ": " + yaml.contentType());
            assertYaml(accept, yaml.body());
        }
        for (String accept : new String[] {"*/*", "text/plain"}) {
            Api.Reply byDefault = api.get("openapi", accept);
            assertEquals(200, byDefault.status(), () -> accept + ": " + byDefault);
            assertYaml(accept, byDefault.body());
        }
        for (String accept : new String[] {"application/json", "application/json, application/yaml;q=0.5"}) {
            Api.Reply json = api.get("openapi", accept);
            assertEquals(200, json.status(), () -> accept + ": " + json);
            assertTrue(json.contentType().startsWith("application/json"), () -> accept + ": " + json.contentType());
            assertTrue(json.json().getJsonObject("paths").containsKey("/api/v1/inference"), json::toString);
        }
    }

    private static void assertYaml(String accept, String body) {
        assertTrue(body.startsWith("openapi: "), () -> accept + ": not the YAML document: " + Api.abbreviate(body));
        assertTrue(body.contains("\n  /api/v1/inference:") && body.contains("InferenceRequest:"),
                () -> accept + ": " + Api.abbreviate(body));
    }

    /** Payara's own servlets would answer 501 to methods the Servlet API does not know. */
    @Test
    void otherMethodsOnTheReadOnlyEndpointsAre405() {
        for (String path : new String[] {"health", "health/ready", "health/live", "metrics", "metrics?scope=application",
                "openapi"}) {
            for (String method : new String[] {"PATCH", "FOO", "PUT", "DELETE", "POST"}) {
                Api.Reply reply = api.request(method, path);
                assertEquals(405, reply.status(), method + " " + path + ": " + reply);
                assertEquals("GET, HEAD, OPTIONS", reply.header("Allow").orElse(""), method + " " + path);
                assertEquals(405, reply.json().getInt("status"));
            }
            assertEquals(200, api.request("GET", path).status(), path);
        }
    }
}
