package org.therapeia.it;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Real HTTP to the running service (java.net.http), JSON through JSON-P (Parsson). */
public final class Api {

    public static final String INFERENCE = "api/v1/inference";
    public static final String CACHE_CLEAR = "api/v1/cache/clear";
    public static final String METRICS_JSON = "api/v1/metrics";

    /** The seed's own example request. */
    public static final String SEED_EXAMPLE =
            "{\"user_input\": \"I've been feeling anxious lately.\", \"use_cache\": true}";

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final URI base;
    private final String apiKey;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .version(HttpClient.Version.HTTP_1_1).build();

    /** A client of a service without an API key. */
    public Api(URI base) {
        this(base, null);
    }

    /** A client that sends {@code apiKey} (when not null) in X-API-Key with every POST. */
    public Api(URI base, String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    public URI base() {
        return base;
    }

    /** The X-API-Key header this client sends, none when it has no key. */
    public Map<String, String> keyHeader() {
        return apiKey == null ? Map.of() : Map.of("X-API-Key", apiKey);
    }

    /** A response with its body as text; {@link #json()} parses it. */
    public record Reply(int status, java.net.http.HttpHeaders headers, String body) {

        public JsonObject json() {
            try (JsonReader reader = Json.createReader(new StringReader(body))) {
                return reader.readObject();
            } catch (RuntimeException e) {
                throw new AssertionError("not a JSON object (HTTP " + status + "): " + abbreviate(body), e);
            }
        }

        public String contentType() {
            return headers.firstValue("Content-Type").orElse("");
        }

        public Optional<String> header(String name) {
            return headers.firstValue(name);
        }

        @Override
        public String toString() {
            return "HTTP " + status + " " + contentType() + " " + abbreviate(body);
        }
    }

    public Reply post(String path, String json) {
        return post(path, json, Map.of());
    }

    public Reply post(String path, String json, Map<String, String> headers) {
        return send(postRequest(path, HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8), headers));
    }

    public Reply postBytes(String path, byte[] body) {
        return postBytes(path, "application/json", body, Map.of());
    }

    /**
     * POSTs {@code body} as it is, with {@code contentType} (no Content-Type header when null) and
     * {@code headers} (which replace the defaults, e.g. Accept).
     */
    public Reply postBytes(String path, String contentType, byte[] body, Map<String, String> headers) {
        return send(postRequest(path, contentType, HttpRequest.BodyPublishers.ofByteArray(body), headers));
    }

    public CompletableFuture<Reply> postAsync(String path, String json) {
        HttpRequest request = postRequest(path, HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8),
                Map.of());
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                .thenApply(r -> new Reply(r.statusCode(), r.headers(), r.body()));
    }

    public Reply get(String path) {
        return get(path, "*/*");
    }

    public Reply get(String path, String accept) {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).header("Accept", accept).GET()
                .build());
    }

    /** Any method, with an empty body. */
    public Reply request(String method, String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
                .method(method, HttpRequest.BodyPublishers.noBody()).build());
    }

    public Reply infer(JsonObject request) {
        return post(INFERENCE, request.toString());
    }

    /** Posts {@code request} and insists on 200. */
    public JsonObject inferOk(JsonObject request) {
        Reply reply = infer(request);
        if (reply.status() != 200) {
            throw new AssertionError("inference failed: " + reply);
        }
        return reply.json();
    }

    public Reply clearCache(String token) {
        return post(CACHE_CLEAR, "", token == null ? Map.of() : Map.of("X-Admin-Token", token));
    }

    /** Waits until /health/ready says UP (the model is loaded and warmed up). */
    public void awaitReady(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        Reply last = null;
        while (System.nanoTime() < deadline) {
            last = get("health/ready", "application/json");
            if (last.status() == 200) {
                return;
            }
            sleep(100);
        }
        throw new AssertionError("the service did not become ready within " + limit + ": " + last);
    }

    /**
     * The MicroProfile Metrics of the application scope (Prometheus text), keyed by the sample's
     * name and labels as printed, e.g. {@code therapeia_queue_depth{mp_scope="application"}}.
     */
    public Map<String, Double> prometheus() {
        Reply reply = get("metrics?scope=application", "text/plain");
        if (reply.status() != 200) {
            throw new AssertionError("metrics: " + reply);
        }
        Map<String, Double> samples = new HashMap<>();
        Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?)\\s+(\\S+)");
        for (String l : reply.body().split("\n")) {
            if (l.startsWith("#")) {
                continue;
            }
            Matcher m = line.matcher(l);
            if (m.find()) {
                samples.put(m.group(1), Double.parseDouble(m.group(2)));
            }
        }
        return samples;
    }

    /** Sum of the samples called {@code name} (any labels), or NaN when there is none. */
    public static double sample(Map<String, Double> samples, String name, String... labels) {
        double sum = 0;
        boolean found = false;
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            String key = e.getKey();
            String bare = key.contains("{") ? key.substring(0, key.indexOf('{')) : key;
            if (!bare.equals(name)) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= key.contains(label);
            }
            if (all) {
                sum += e.getValue();
                found = true;
            }
        }
        return found ? sum : Double.NaN;
    }

    private HttpRequest postRequest(String path, HttpRequest.BodyPublisher body, Map<String, String> headers) {
        return postRequest(path, "application/json", body, headers);
    }

    private HttpRequest postRequest(String path, String contentType, HttpRequest.BodyPublisher body,
                                    Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
                .header("Accept", "application/json, application/problem+json")
                .POST(body);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        keyHeader().forEach((name, value) -> {
            if (!headers.containsKey(name)) {
                b.header(name, value);
            }
        });
        headers.forEach(b::setHeader);
        return b.build();
    }

    private Reply send(HttpRequest request) {
        try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Reply(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String abbreviate(String s) {
        return s == null ? "null" : s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }

    /** A JSON object builder seeded with the given name/value pairs. */
    public static jakarta.json.JsonObjectBuilder object(Object... pairs) {
        jakarta.json.JsonObjectBuilder b = Json.createObjectBuilder();
        for (int i = 0; i < pairs.length; i += 2) {
            String name = (String) pairs[i];
            Object value = pairs[i + 1];
            if (value instanceof String s) {
                b.add(name, s);
            } else if (value instanceof Integer n) {
                b.add(name, n);
            } else if (value instanceof Long n) {
                b.add(name, n);
            } else if (value instanceof Double d) {
                b.add(name, d);
            } else if (value instanceof Boolean bool) {
                b.add(name, bool);
            } else if (value instanceof JsonValue v) {
                b.add(name, v);
            } else if (value instanceof jakarta.json.JsonArrayBuilder a) {
                b.add(name, a);
            } else {
                throw new IllegalArgumentException(name + ": " + value);
            }
        }
        return b;
    }
}
