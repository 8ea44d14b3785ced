package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Crisis signals on the real server: a level 3 message is never a cache hit, carries resources
 * first, writes a content-free audit record, counts in the metrics, reaches the operator webhook
 * (a loopback server on therapeia.it.webhook-port, the port the server was configured with) as a
 * content-free event, and its text appears in no log line; a benign message still caches; a
 * streamed crisis reply carries the resources in the same stream.
 */
@Order(9)
class SafetyIT extends RunningService {

    @Test
    void aHighRiskMessageIsNeverCachedCarriesResourcesAndTellsTheOperatorNothingOfWhatWasSaid() throws Exception {
        String marker = "zqsafety" + UUID.randomUUID().toString().replace("-", "");
        LinkedBlockingQueue<String> hooks = new LinkedBlockingQueue<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                Integer.getInteger("therapeia.it.webhook-port")), 0);
        hook.createContext("/safety-hook", exchange -> {
            hooks.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        hook.start();
        try {
            double signalsBefore = metric("therapeia_safety_signals_total", "level=\"3\"", "category=\"suicide\"");
            double referralsBefore = metric("therapeia_safety_referrals_total");
            JsonObject request = Api.object("user_input", "I have the pills saved up " + marker + ".",
                    "use_cache", true, "max_new_tokens", 16, "temperature", 0.0).build();
            for (int i = 0; i < 3; i++) {
                JsonObject reply = api.inferOk(request);
                assertFalse(reply.getBoolean("cache_hit"), "a level 3 request is never served from the cache");
                JsonObject safety = reply.getJsonObject("metadata").getJsonObject("safety");
                assertEquals(3, safety.getInt("level"));
                assertEquals("high", safety.getString("label"));
                assertEquals("suicide", safety.getJsonArray("categories").getString(0));
                assertEquals("988", safety.getJsonArray("resources").getJsonObject(0).getString("phone"));
                assertTrue(reply.getString("response").startsWith("You don't have to go through this alone"),
                        "resources first at level 3");
            }
            assertEquals(signalsBefore + 3, metric("therapeia_safety_signals_total", "level=\"3\"",
                    "category=\"suicide\""));
            assertEquals(referralsBefore + 3, metric("therapeia_safety_referrals_total"));

            // the level 3 event (another test's level 4 event may arrive too: its retries reach this server)
            JsonObject json = null;
            for (String event = hooks.poll(30, TimeUnit.SECONDS); event != null && json == null;
                 event = json == null ? hooks.poll(30, TimeUnit.SECONDS) : null) {
                assertFalse(event.contains(marker) || event.contains("pills"), "the event carries no text: " + event);
                JsonObject e = Json.createReader(new StringReader(event)).readObject();
                assertEquals("crisis_signal", e.getString("event"));
                if (e.getInt("level") == 3) {
                    json = e;
                }
            }
            assertTrue(json != null, "the webhook received the level 3 event");
            assertTrue(json.getJsonArray("categories").toString().contains("suicide"));

            // a benign message still caches
            JsonObject benign = Api.object("user_input", "Can we work on my self-esteem today " + marker + "?",
                    "use_cache", true, "max_new_tokens", 8).build();
            assertFalse(api.inferOk(benign).getBoolean("cache_hit"));
            JsonObject again = api.inferOk(benign);
            assertTrue(again.getBoolean("cache_hit"));
            assertEquals(0, again.getJsonObject("metadata").getJsonObject("safety").getInt("level"));

            // the audit record, and no text anywhere
            ServerLogs.settle(10_000);
            String all = ServerLogs.all();
            assertTrue(all.contains("\"event\":\"crisis_signal\"") && all.contains("\"level\":3"),
                    "an audit record in the server log");
            for (Path file : ServerLogs.files()) {
                assertFalse(ServerLogs.read(file).contains(marker), "user text in " + file);
            }
            assertFalse(api.get("metrics?scope=application", "text/plain").body().contains(marker));
        } finally {
            hook.stop(0);
        }
    }

    @Test
    void aStreamedCrisisReplyCarriesTheResources() throws Exception {
        JsonObject request = Api.object("user_input", "I just took the whole bottle of pills", "use_cache", true,
                "max_new_tokens", 8, "locale", "en-GB").build();
        HttpRequest post = HttpRequest.newBuilder(api.base().resolve("api/v1/inference/stream"))
                .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").header("X-API-Key", ServerFiles.apiKey())
                .POST(HttpRequest.BodyPublishers.ofString(request.toString(), StandardCharsets.UTF_8)).build();
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(post, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r::body);
        String body = r.body().replace("event: ", "event:");
        int firstToken = body.indexOf("event:token");
        assertTrue(firstToken >= 0, body);
        String firstData = body.substring(firstToken, body.indexOf("\n\n", firstToken));
        assertTrue(firstData.contains("please call 999"), "emergency number first, in the stream: " + firstData);
        int done = body.indexOf("event:done");
        assertTrue(done >= 0 && body.indexOf("\"label\":\"imminent\"", done) > 0,
                "the done event carries metadata.safety: " + body.substring(Math.max(0, done)));
    }

    @Test
    void theLocaleFieldIsValidated() {
        Api.Reply r = api.post(Api.INFERENCE, "{\"user_input\": \"hi\", \"locale\": \"not a locale!\"}");
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.body().contains("locale"), r::toString);
    }

    private double metric(String name, String... labels) {
        double v = Api.sample(api.prometheus(), name, labels);
        return Double.isNaN(v) ? 0 : v;
    }
}
