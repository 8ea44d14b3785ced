package org.therapeia.benchmark;

import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Stream;

/**
 * Talks to one Therapeia service over HTTP/1.1 ({@link HttpClient}): inference requests, the
 * readiness check and the cache clear. Never throws for what the service answers: every request
 * ends as a {@link RequestOutcome}.
 */
public final class InferenceClient {

    static final String INFERENCE_PATH = "api/v1/inference";
    static final String STREAM_PATH = "api/v1/inference/stream";
    static final String READY_PATH = "health/ready";
    static final String CACHE_CLEAR_PATH = "api/v1/cache/clear";
    static final String ADMIN_TOKEN_HEADER = "X-Admin-Token";
    static final String API_KEY_HEADER = "X-API-Key";

    private static final JsonProvider JSON = JsonProvider.provider();

    private final HttpClient http;
    private final URI inference;
    private final URI stream;
    private final URI ready;
    private final URI cacheClear;
    private final Duration timeout;
    private final String apiKey;

    public InferenceClient(BenchmarkOptions options) {
        this(options.url(), options.timeout(), options.apiKey());
    }

    /** @param apiKey sent in {@code X-API-Key} with every inference request; null for a service without one */
    public InferenceClient(URI baseUrl, Duration timeout, String apiKey) {
        // HTTP/1.1: the service speaks it, and the default (h2c upgrade) adds a round of headers
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.inference = baseUrl.resolve(INFERENCE_PATH);
        this.stream = baseUrl.resolve(STREAM_PATH);
        this.ready = baseUrl.resolve(READY_PATH);
        this.cacheClear = baseUrl.resolve(CACHE_CLEAR_PATH);
        this.timeout = timeout;
        this.apiKey = apiKey;
    }

    /** Sends one {@code POST /api/v1/inference} and waits for the whole reply. */
    public RequestOutcome infer(RequestInput input, boolean useCache, Integer maxNewTokens) {
        HttpRequest request = post(inference, "application/json", input, useCache, maxNewTokens);
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            long latency = System.nanoTime() - start;
            if (response.statusCode() != 200) {
                return RequestOutcome.httpError(response.statusCode(), latency);
            }
            return parseResponse(response.body(), latency);
        } catch (HttpTimeoutException e) {
            return RequestOutcome.failed(0, RequestOutcome.TIMEOUT, System.nanoTime() - start);
        } catch (IOException e) {
            return RequestOutcome.failed(0, RequestOutcome.CONNECTION, System.nanoTime() - start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return RequestOutcome.failed(0, RequestOutcome.CLIENT_ERROR, System.nanoTime() - start);
        }
    }

    /**
     * Sends one {@code POST /api/v1/inference/stream} and reads its server-sent events as they
     * come: the first {@code token} event's arrival is the time to the first piece, the
     * {@code done} event's data the reply (read as {@link #parseResponse} reads the plain one's).
     */
    public RequestOutcome inferStreamed(RequestInput input, boolean useCache, Integer maxNewTokens) {
        HttpRequest request = post(stream, "text/event-stream", input, useCache, maxNewTokens);
        long start = System.nanoTime();
        try {
            HttpResponse<Stream<String>> response = http.send(request,
                    HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = response.body()) {
                if (response.statusCode() != 200) {
                    return RequestOutcome.httpError(response.statusCode(), System.nanoTime() - start);
                }
                StreamedReply reply = StreamedReply.read(lines.iterator(), start);
                long latency = System.nanoTime() - start;
                if (reply.done() == null) {
                    return RequestOutcome.failed(200, reply.error() != null ? "stream_error_" + reply.error()
                            : RequestOutcome.INVALID_RESPONSE, latency);
                }
                RequestOutcome outcome = parseResponse(reply.done(), latency);
                return reply.firstPieceNanos() > 0 ? outcome.withFirstPiece(reply.firstPieceNanos()) : outcome;
            }
        } catch (HttpTimeoutException e) {
            return RequestOutcome.failed(0, RequestOutcome.TIMEOUT, System.nanoTime() - start);
        } catch (IOException | UncheckedIOException e) {
            return RequestOutcome.failed(0, RequestOutcome.CONNECTION, System.nanoTime() - start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return RequestOutcome.failed(0, RequestOutcome.CLIENT_ERROR, System.nanoTime() - start);
        }
    }

    private HttpRequest post(URI uri, String accept, RequestInput input, boolean useCache, Integer maxNewTokens) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Accept", accept)
                .POST(HttpRequest.BodyPublishers.ofString(requestBody(input, useCache, maxNewTokens),
                        StandardCharsets.UTF_8));
        if (apiKey != null) {
            builder.header(API_KEY_HEADER, apiKey);
        }
        return builder.build();
    }

    /**
     * Polls {@code /health/ready} once a second until it answers 200 or {@code patience} has passed.
     *
     * @return null when ready, else what it last saw ("503", "connection refused")
     */
    public String awaitReady(Duration patience, PrintStream progress) {
        long deadline = System.nanoTime() + patience.toNanos();
        String last = null;
        boolean announced = false;
        while (true) {
            HttpRequest request = HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).GET().build();
            try {
                HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return null;
                }
                last = "HTTP " + response.statusCode();
            } catch (ConnectException e) {
                last = "connection refused";
            } catch (IOException e) {
                last = e.getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
            if (System.nanoTime() >= deadline) {
                return last;
            }
            if (!announced) {
                progress.println("waiting for " + ready + " (" + last + ") ...");
                announced = true;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
    }

    /**
     * {@code POST /api/v1/cache/clear} with the admin token.
     *
     * @return the HTTP status; 0 when no response came
     */
    public int clearCache(String adminToken) {
        HttpRequest request = HttpRequest.newBuilder(cacheClear)
                .timeout(Duration.ofSeconds(30))
                .header(ADMIN_TOKEN_HEADER, adminToken)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** The request body: the seed's fields, plus max_new_tokens when given. */
    static String requestBody(RequestInput input, boolean useCache, Integer maxNewTokens) {
        StringWriter out = new StringWriter();
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.write("user_input", input.userInput());
            json.writeStartArray("conversation_history");
            for (ChatTurn turn : input.history()) {
                json.writeStartObject().write("role", turn.role()).write("content", turn.content()).writeEnd();
            }
            json.writeEnd();
            json.write("use_cache", useCache);
            if (maxNewTokens != null) {
                json.write("max_new_tokens", maxNewTokens);
            }
            json.writeEnd();
        }
        return out.toString();
    }

    /** Reads a 200's body; a body without the contract's fields is an {@link RequestOutcome#INVALID_RESPONSE}. */
    static RequestOutcome parseResponse(String body, long latencyNanos) {
        try (JsonReader reader = JSON.createReader(new StringReader(body))) {
            JsonObject json = reader.readObject();
            JsonValue hit = json.get("cache_hit");
            if (hit == null || (hit.getValueType() != JsonValue.ValueType.TRUE
                    && hit.getValueType() != JsonValue.ValueType.FALSE)
                    || !(json.get("tokens_generated") instanceof JsonNumber tokens)
                    || !(json.get("latency") instanceof JsonNumber latency)
                    || !(json.get("metadata") instanceof JsonObject metadata)
                    || !(metadata.get("generation_time") instanceof JsonNumber generationTime)) {
                return RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, latencyNanos);
            }
            boolean cacheHit = hit.getValueType() == JsonValue.ValueType.TRUE;
            double queueTime = metadata.get("queue_time") instanceof JsonNumber queue ? queue.doubleValue() : 0;
            return RequestOutcome.success(latencyNanos, cacheHit, tokens.intValue(), latency.doubleValue(),
                    generationTime.doubleValue(), queueTime);
        } catch (JsonException | IllegalStateException | ClassCastException e) {
            return RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, latencyNanos);
        }
    }
}
