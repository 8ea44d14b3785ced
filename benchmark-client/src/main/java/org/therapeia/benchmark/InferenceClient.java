package org.therapeia.benchmark;

import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.spi.JsonProvider;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
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
 * Talks to one Therapeia service over HTTP/1.1 ({@link HttpClient}): inference requests in either
 * of its APIs ({@link ServiceApi}), the readiness check, the served model's name and the cache
 * clear. Never throws for what the service answers: every request ends as a {@link RequestOutcome}.
 */
public final class InferenceClient {

    static final String READY_PATH = "health/ready";
    static final String CACHE_CLEAR_PATH = "api/v1/cache/clear";
    static final String ADMIN_TOKEN_HEADER = "X-Admin-Token";

    private static final JsonProvider JSON = JsonProvider.provider();

    private final HttpClient http;
    private final URI baseUrl;
    private final URI ready;
    private final URI cacheClear;
    private final Duration timeout;
    private final String apiKey;

    public InferenceClient(BenchmarkOptions options) {
        this(options.url(), options.timeout(), options.apiKey());
    }

    /** @param apiKey sent with every inference request; null for a service without one */
    public InferenceClient(URI baseUrl, Duration timeout, String apiKey) {
        // HTTP/1.1: the service speaks it, and the default (h2c upgrade) adds a round of headers
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.baseUrl = baseUrl;
        this.ready = baseUrl.resolve(READY_PATH);
        this.cacheClear = baseUrl.resolve(CACHE_CLEAR_PATH);
        this.timeout = timeout;
        this.apiKey = apiKey;
    }

    /**
     * Sends one inference request in {@code api} and waits for the whole reply; a streamed one is
     * read as its events come ({@link ServiceApi#readStream}: the time to the first piece).
     */
    public RequestOutcome infer(ServiceApi api, RequestInput input, boolean useCache, Integer maxNewTokens,
                                boolean streamed) {
        HttpRequest.Builder request = HttpRequest.newBuilder(baseUrl.resolve(api.path(streamed)))
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Accept", api.accept(streamed))
                .POST(HttpRequest.BodyPublishers.ofString(api.requestBody(input, useCache, maxNewTokens, streamed),
                        StandardCharsets.UTF_8));
        if (apiKey != null) {
            request.header(api.apiKeyHeader(), api.apiKeyValue(apiKey));
        }
        long start = System.nanoTime();
        try {
            if (!streamed) {
                HttpResponse<String> response = http.send(request.build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                long latency = System.nanoTime() - start;
                return response.statusCode() != 200 ? RequestOutcome.httpError(response.statusCode(), latency)
                        : api.readReply(response.body(), latency);
            }
            HttpResponse<Stream<String>> response = http.send(request.build(), HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = response.body()) {
                return response.statusCode() != 200
                        ? RequestOutcome.httpError(response.statusCode(), System.nanoTime() - start)
                        : api.readStream(lines.iterator(), start);
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

    /**
     * The served model's id: the first of {@code GET /v1/models} (what OpenAI requests name).
     *
     * @throws IllegalStateException saying what the service answered instead
     */
    public String servedModel() {
        HttpRequest.Builder request = HttpRequest.newBuilder(baseUrl.resolve(OpenAiApi.MODELS_PATH))
                .timeout(Duration.ofSeconds(30)).header("Accept", "application/json").GET();
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + response.statusCode()
                    + (response.statusCode() == 401 ? " (wrong API key?)" : ""));
        }
        try (JsonReader reader = JSON.createReader(new StringReader(response.body()))) {
            if (reader.readObject().get("data") instanceof JsonArray data && !data.isEmpty()
                    && data.get(0) instanceof JsonObject model && model.get("id") instanceof JsonString id) {
                return id.getString();
            }
        } catch (JsonException | IllegalStateException e) {
            // falls through: not a model list
        }
        throw new IllegalStateException("not a model list");
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
}
