package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Redeploying the WAR in the running server keeps inference working. On Payara Micro the service
 * is deployed exploded (target/deployments/therapeia); touching its {@code .reload} file makes
 * Payara Micro undeploy it and deploy it again, in a new class loader, in the same JVM. On Payara
 * Server an operator's {@code asadmin redeploy --name therapeia} of the WAR file does the same
 * (started in the background, so that readiness is watched while it runs). The engine binding
 * and the tokenizers live on the server's class path (--addlibs; the domain's lib/ on Payara
 * Server, where payara-server-setup.sh puts them), so their native libraries,
 * loaded once, serve the new deployment; were they in WEB-INF/lib, the second deployment would
 * fail with "already loaded in another classloader" (DESIGN.md section 5).
 *
 * <p>While the new deployment loads and warms up, readiness is watched closely: it is DOWN
 * until the model is READY, and UP only then, with every warm-up request submitted.
 *
 * <p>Runs last: it resets the service's state (metrics, model runtime).
 */
@Order(100)
class RedeployIT extends RunningService {

    private static final JsonObject GREEDY = Api.object("user_input", "Can you help me feel calmer?",
            "use_cache", false, "temperature", 0.0, "max_new_tokens", 32).build();

    /** One look at readiness. */
    record Observation(int status, String overall, Optional<String> modelState) {
    }

    @Test
    void redeployingTheWarKeepsInferenceWorking() throws IOException {
        String before = api.inferOk(GREEDY).getString("response");
        int deploymentsBefore = count(ServerLogs.all(), "ready after");

        for (int round = 1; round <= 2; round++) {
            List<Observation> seen = redeployAndWatch();
            Files.writeString(ServerFiles.path("therapeia.it.dir").resolve("redeploy-" + round + "-readiness.txt"),
                    summary(seen));

            // readiness: never UP unless the model is READY, never READY while DOWN, and it went down
            for (Observation o : seen) {
                if (o.modelState().isPresent()) {
                    boolean ready = o.modelState().get().equals("READY");
                    assertEquals(ready, o.status() == 200 && o.overall().equals("UP"), "readiness vs state: " + o);
                }
            }
            assertTrue(seen.stream().anyMatch(o -> o.modelState().map(s -> !s.equals("READY")).orElse(true)),
                    "round " + round + ": the redeployment was observed (not ready for a while): " + summary(seen));
            JsonObject started = api.get("health/started", "application/json").json().getJsonArray("checks")
                    .getJsonObject(0).getJsonObject("data");
            assertEquals(10, (int) HealthMetricsIT.number(started, "warmup_submitted"),
                    "ready only after the whole warm-up: " + started);

            // inference works in the new deployment, through the same native library
            assertEquals(before, api.inferOk(GREEDY).getString("response"), "round " + round + ": same greedy reply");
            JsonObject seed = api.post(Api.INFERENCE, Api.SEED_EXAMPLE).json();
            InferenceIT.assertSeedFields(seed);
            assertTrue(api.post(Api.INFERENCE, Api.SEED_EXAMPLE).json().getBoolean("cache_hit"), "the cache works");
            assertEquals(200, api.clearCache(ServerFiles.adminToken()).status());
            assertEquals(8.0, Api.sample(api.prometheus(), "therapeia_kv_slots_total"),
                    "the metrics follow the new deployment");
        }

        ServerLogs.settle(10_000);
        String logs = ServerLogs.all();
        assertFalse(logs.contains("already loaded in another classloader"), "the JNI library survived the redeploy");
        assertFalse(logs.contains("UnsatisfiedLinkError"), "no native linkage failure");
        assertFalse(logs.contains("could not be loaded"), "every deployment loaded the model");
        assertTrue(count(logs, "ready after") >= deploymentsBefore + 2,
                "each deployment loaded and warmed up its own engine");
    }

    /** Starts a redeploy and watches readiness (and inference) until the new deployment is READY. */
    private List<Observation> redeployAndWatch() throws IOException {
        double uptimeBefore = uptime().orElse(Double.MAX_VALUE);
        Optional<Process> asadmin = startRedeploy();
        List<Observation> seen = watchUntilReady(uptimeBefore);
        if (asadmin.isPresent()) {
            try {
                Process p = asadmin.get();
                assertTrue(p.waitFor(5, TimeUnit.MINUTES), "asadmin redeploy ended");
                assertEquals(0, p.exitValue(), "asadmin redeploy's exit status (its output is in "
                        + PayaraServerContainer.domain().dir + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return seen;
    }

    /** Payara Micro: touches .reload; Payara Server: starts asadmin redeploy, which is returned. */
    private static Optional<Process> startRedeploy() throws IOException {
        if (TestTarget.current() == TestTarget.PAYARA_SERVER) {
            return Optional.of(PayaraServerContainer.domain().asadminInBackground("redeploy", "--name", "therapeia",
                    ServerFiles.path("therapeia.it.war").toString()));
        }
        Path reload = ServerFiles.deployment().resolve(".reload");
        if (!Files.exists(reload)) {
            Files.createFile(reload);
        }
        Files.setLastModifiedTime(reload, FileTime.from(Instant.now()));
        return Optional.empty();
    }

    private List<Observation> watchUntilReady(double uptimeBefore) {
        List<Observation> seen = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        boolean redeployed = false;
        for (int i = 0; System.nanoTime() < deadline; i++) {
            Observation o = observe();
            seen.add(o);
            if (o.modelState().map(s -> !s.equals("READY")).orElse(true)) {
                redeployed = true;
            }
            if (!redeployed && o.modelState().isPresent()) {
                // the old deployment may answer for a moment; a smaller uptime means a new one
                redeployed = uptime().map(u -> u < uptimeBefore).orElse(false);
            }
            if (redeployed && o.status() == 200 && o.modelState().map("READY"::equals).orElse(false)) {
                return seen;
            }
            if (i % 10 == 5) {
                // requests meanwhile: the service answers them or refuses them as not ready (503 with
                // Retry-After); while the application itself is swapped, Payara answers with its own
                // HTML error page (404, 500 or 503)
                Api.Reply r = api.post(Api.INFERENCE,
                        "{\"user_input\": \"During the redeploy.\", \"max_new_tokens\": 2}");
                if (!r.contentType().startsWith("text/html")) {
                    assertTrue(r.status() == 200 || r.status() == 503, r::toString);
                    if (r.status() == 503) {
                        assertTrue(r.contentType().startsWith("application/problem+json"), r::toString);
                        assertTrue(r.header("Retry-After").isPresent(), r::toString);
                    }
                }
            }
            Api.sleep(5);
        }
        throw new AssertionError("the redeployed service did not become ready: " + summary(seen));
    }

    private Observation observe() {
        Api.Reply r = api.get("health/ready", "application/json");
        if (!isHealthJson(r)) { // e.g. 503 with an HTML page while the application is being swapped
            return new Observation(r.status(), "", Optional.empty());
        }
        JsonObject health = r.json();
        Optional<String> state = health.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(c -> c.getString("name").equals("model")).findFirst()
                .map(c -> c.getJsonObject("data").getString("state"));
        return new Observation(r.status(), health.getString("status"), state);
    }

    private Optional<Double> uptime() {
        Api.Reply r = api.get("health/ready", "application/json");
        if (!isHealthJson(r)) {
            return Optional.empty();
        }
        return r.json().getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(c -> c.getString("name").equals("model")).findFirst()
                .map(c -> HealthMetricsIT.number(c.getJsonObject("data"), "uptime_seconds"));
    }

    private static boolean isHealthJson(Api.Reply r) {
        return (r.status() == 200 || r.status() == 503) && r.contentType().startsWith("application/json");
    }

    private static String summary(List<Observation> seen) {
        StringBuilder b = new StringBuilder();
        Observation last = null;
        for (Observation o : seen) {
            if (!o.equals(last)) {
                b.append(o).append('\n');
            }
            last = o;
        }
        return b.toString();
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
