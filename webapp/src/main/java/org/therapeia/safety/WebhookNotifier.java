package org.therapeia.safety;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Posts the content-free event of a level 3 or 4 request to the operator's webhook, off the
 * request path: the reply never waits for it. A failed attempt (no answer within the timeout, or
 * a status outside 2xx) is retried after 1, 2, 4... seconds, up to the configured retries. The
 * log names the outcome and the event id only. Therapeia itself contacts no one else.
 */
final class WebhookNotifier {

    private static final Logger LOG = Logger.getLogger(WebhookNotifier.class.getName());

    private final URI url;
    private final Duration timeout;
    private final int retries;
    private final Optional<String> token;
    private final Executor executor;
    private final SafetyMetrics metrics;
    private final HttpClient client;

    WebhookNotifier(URI url, Duration timeout, int retries, Optional<String> token, Executor executor,
                    SafetyMetrics metrics) {
        this.url = url;
        this.timeout = timeout;
        this.retries = retries;
        this.token = token;
        this.executor = executor;
        this.metrics = metrics;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).executor(executor)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Starts the delivery and returns at once; the stage completes with whether it was delivered. */
    CompletableFuture<Boolean> send(SafetyEvent event) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(event.toJson().toString()));
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        CompletableFuture<Boolean> outcome = new CompletableFuture<>();
        attempt(request.build(), event.eventId(), 0, outcome);
        return outcome;
    }

    private void attempt(HttpRequest request, String eventId, int attempt, CompletableFuture<Boolean> outcome) {
        client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, failure) -> {
            boolean delivered = failure == null && response.statusCode() / 100 == 2;
            if (delivered) {
                metrics.webhook("delivered");
                outcome.complete(true);
            } else if (attempt < retries) {
                Executor later = CompletableFuture.delayedExecutor(1L << Math.min(attempt, 5), TimeUnit.SECONDS,
                        executor);
                later.execute(() -> attempt(request, eventId, attempt + 1, outcome));
            } else {
                metrics.webhook("failed");
                LOG.log(Level.WARNING, "safety webhook: event {0} not delivered after {1} attempts ({2})",
                        new Object[] {eventId, attempt + 1, failure != null ? failure.getClass().getSimpleName()
                                : "HTTP " + response.statusCode()});
                outcome.complete(false);
            }
        });
    }
}
