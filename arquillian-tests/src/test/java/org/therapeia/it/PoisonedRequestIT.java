package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * A poisoned request never harms the requests running with it. Ordinary greedy requests are sent
 * alone first, then again all at once together with every extreme value of every generation
 * parameter that still parses as JSON (the issue's {@code "temperature": 1e-39} first among them)
 * and with requests at the very edges of the accepted ranges. Every ordinary request answers 200
 * with the same reply it gave alone; every poisoned one answers its own 400 problem naming its
 * field; every edge request answers 200 (the engine computes it safely); and the service serves
 * on. Failures inside the engine that no HTTP input can cause (a sequence whose logits turn NaN)
 * are tested below the validation: native/tests/engine_isolation_test.cpp, EngineIsolationTest,
 * SchedulerIsolationTest.
 */
@Order(9)
class PoisonedRequestIT extends RunningService {

    private static final int ORDINARY = 6;
    private static final String HI = "\"user_input\": \"I feel a little better today.\", \"use_cache\": false, "
            + "\"max_new_tokens\": 24";

    /** Poisoned body -> the field its 400 must name. */
    private static Map<String, String> poisoned() {
        Map<String, String> p = new LinkedHashMap<>();
        for (String t : new String[] {"1e-39", "-1e-39", "4.9e-324", "1e-400", "0.001", "1e308", "1e400", "-0.5",
            "\"NaN\"", "\"Infinity\"", "true"}) {
            p.put("{" + HI + ", \"temperature\": " + t + "}", "temperature");
        }
        for (String r : new String[] {"1e-39", "4.9e-324", "0", "-0.0", "-1.1", "1e308", "1e400", "\"NaN\""}) {
            p.put("{" + HI + ", \"temperature\": 0.7, \"repetition_penalty\": " + r + "}", "repetition_penalty");
        }
        for (String v : new String[] {"0", "-0.0", "1e-400", "1.0000001", "1e308", "\"0.9\""}) {
            p.put("{" + HI + ", \"temperature\": 0.7, \"top_p\": " + v + "}", "top_p");
        }
        for (String k : new String[] {"-1", "2147483648", "1e19", "1e308", "2.5", "\"50\""}) {
            p.put("{" + HI + ", \"temperature\": 0.7, \"top_k\": " + k + "}", "top_k");
        }
        for (String s : new String[] {"9223372036854775808", "-9223372036854775809", "1e19", "1e999999999", "0.5",
            "\"1\""}) {
            p.put("{" + HI + ", \"temperature\": 0.7, \"seed\": " + s + "}", "seed");
        }
        for (String m : new String[] {"0", "-1", "1025", "2147483648", "1e308", "1.5", "-0.0"}) {
            p.put("{\"user_input\": \"Hello.\", \"use_cache\": false, \"max_new_tokens\": " + m + "}",
                    "max_new_tokens");
        }
        return p;
    }

    /** Requests at the edges of the accepted ranges: each computed safely by the engine. */
    private static List<String> edges() {
        return List.of(
                "{" + HI + ", \"temperature\": 0.01, \"repetition_penalty\": 0.01}",
                "{" + HI + ", \"temperature\": 5, \"repetition_penalty\": 10, \"top_k\": 2147483647}",
                "{" + HI + ", \"temperature\": 0.01, \"top_p\": 1e-300, \"seed\": -9223372036854775808}",
                "{" + HI + ", \"temperature\": -0.0, \"repetition_penalty\": 0.01, \"seed\": 9223372036854775807}");
    }

    private static String ordinary(int i) {
        return "{\"user_input\": \"Ordinary request " + i + " among poisoned ones.\", \"use_cache\": false, "
                + "\"max_new_tokens\": 32, \"temperature\": 0}";
    }

    @Test
    void poisonedRequestsFailAloneAndOrdinaryOnesAnswerAsTheyWouldAlone() {
        Map<String, Double> before = api.prometheus();
        List<String> alone = new ArrayList<>();
        for (int i = 0; i < ORDINARY; i++) {
            Api.Reply reply = api.post(Api.INFERENCE, ordinary(i));
            assertEquals(200, reply.status(), reply::toString);
            alone.add(reply.json().getString("response"));
        }

        // the poisoned request goes first, the ordinary ones right behind it, then the rest
        Map<String, String> poisoned = poisoned();
        Map<CompletableFuture<Api.Reply>, String> poisonedReplies = new LinkedHashMap<>();
        List<CompletableFuture<Api.Reply>> ordinaryReplies = new ArrayList<>();
        List<CompletableFuture<Api.Reply>> edgeReplies = new ArrayList<>();
        List<Map.Entry<String, String>> entries = new ArrayList<>(poisoned.entrySet());
        poisonedReplies.put(api.postAsync(Api.INFERENCE, entries.get(0).getKey()), entries.get(0).getValue());
        for (int i = 0; i < ORDINARY; i++) {
            ordinaryReplies.add(api.postAsync(Api.INFERENCE, ordinary(i)));
            for (String edge : i < edges().size() ? List.of(edges().get(i)) : List.<String>of()) {
                edgeReplies.add(api.postAsync(Api.INFERENCE, edge));
            }
        }
        for (Map.Entry<String, String> e : entries.subList(1, entries.size())) {
            poisonedReplies.put(api.postAsync(Api.INFERENCE, e.getKey()), e.getValue());
        }

        for (int i = 0; i < ORDINARY; i++) {
            Api.Reply reply = ordinaryReplies.get(i).join();
            assertEquals(200, reply.status(), reply::toString);
            assertEquals(alone.get(i), reply.json().getString("response"),
                    "ordinary request " + i + " answers as it did alone");
        }
        poisonedReplies.forEach((future, field) -> {
            Api.Reply reply = future.join();
            assertEquals(400, reply.status(), () -> field + ": " + reply);
            assertTrue(reply.contentType().startsWith("application/problem+json"), reply::toString);
            JsonObject problem = reply.json();
            assertEquals(field, problem.getString("field"), problem::toString);
            assertTrue(problem.getString("detail").startsWith(field + " must be"), problem::toString);
        });
        for (CompletableFuture<Api.Reply> future : edgeReplies) {
            Api.Reply reply = future.join();
            assertEquals(200, reply.status(), reply::toString);
            int tokens = reply.json().getInt("tokens_generated");
            assertTrue(tokens >= 1 && tokens <= 24, reply::toString);
        }

        // the service serves on, and nothing failed inside the engine
        JsonObject next = api.inferOk(Api.object("user_input", "Still there?", "max_new_tokens", 4).build());
        InferenceIT.assertSeedFields(next);
        Map<String, Double> after = api.prometheus();
        for (String kind : new String[] {"engine", "sequence_failed"}) {
            assertEquals(errors(before, kind), errors(after, kind), "therapeia_errors_total{kind=" + kind + "}");
        }
    }

    private static double errors(Map<String, Double> metrics, String kind) {
        double n = Api.sample(metrics, "therapeia_errors_total", "kind=\"" + kind + "\"");
        return Double.isNaN(n) ? 0 : n;
    }
}
