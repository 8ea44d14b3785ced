package org.therapeia.benchmark;

/**
 * How one request ended.
 *
 * @param status               the HTTP status; 0 when no response came
 * @param failure              why a request failed without a usable response ({@link #TIMEOUT},
 *                             {@link #CONNECTION}, {@link #INVALID_RESPONSE}, {@link #CLIENT_ERROR}); null otherwise
 * @param latencyNanos         from sending the request to having the whole body, measured here
 * @param cacheHit             the response's {@code cache_hit}
 * @param tokensGenerated      the response's {@code tokens_generated}
 * @param serverLatency        the response's {@code latency} (seconds, measured by the service)
 * @param generationTime       the response's {@code metadata.generation_time} (seconds in the engine; 0 on a hit)
 * @param queueTime            the response's {@code metadata.queue_time} (seconds waiting for an engine slot;
 *                             0 when absent)
 * @param firstPieceNanos      streamed requests: from sending the request to the first piece of text
 *                             (the first {@code token} event), measured here; 0 otherwise
 * @param reply                the reply's text, kept only so that a conversation can send it back as
 *                             history (never printed); null when not read
 * @param promptTokens         prompt tokens (the seed's {@code metadata.input_tokens}, OpenAI's
 *                             {@code usage.prompt_tokens}); -1 when the reply does not say
 * @param reusedTokens         of those, reused from an earlier request's KV cache rather than computed
 *                             ({@code metadata.input_tokens_reused}, {@code prompt_tokens_details.cached_tokens});
 *                             -1 when the reply does not say
 * @param serverFirstToken     the seed's {@code metadata.time_to_first_token} (seconds from arrival to
 *                             the first token, measured by the service); 0 when the reply does not say
 */
public record RequestOutcome(int status, String failure, long latencyNanos, boolean cacheHit, int tokensGenerated,
        double serverLatency, double generationTime, double queueTime, long firstPieceNanos, String reply,
        int promptTokens, int reusedTokens, double serverFirstToken) {

    public static final String TIMEOUT = "timeout";
    public static final String CONNECTION = "connection";
    public static final String INVALID_RESPONSE = "invalid_response";
    public static final String CLIENT_ERROR = "client_error";

    /** A 200 with a well-formed body. */
    public static RequestOutcome success(long latencyNanos, boolean cacheHit, int tokensGenerated,
            double serverLatency, double generationTime) {
        return success(latencyNanos, cacheHit, tokensGenerated, serverLatency, generationTime, 0);
    }

    /** A 200 with a well-formed body that reports its queue time. */
    public static RequestOutcome success(long latencyNanos, boolean cacheHit, int tokensGenerated,
            double serverLatency, double generationTime, double queueTime) {
        return new RequestOutcome(200, null, latencyNanos, cacheHit, tokensGenerated, serverLatency, generationTime,
                queueTime, 0, null, -1, -1, 0);
    }

    /** This outcome of a streamed request whose first piece of text came after {@code nanos}. */
    public RequestOutcome withFirstPiece(long nanos) {
        return new RequestOutcome(status, failure, latencyNanos, cacheHit, tokensGenerated, serverLatency,
                generationTime, queueTime, nanos, reply, promptTokens, reusedTokens, serverFirstToken);
    }

    /**
     * This outcome with what a conversation needs of its reply: the text to send back, and the
     * prompt tokens computed and reused (-1 where not reported).
     */
    public RequestOutcome withReply(String text, int prompt, int reused, double firstTokenSeconds) {
        return new RequestOutcome(status, failure, latencyNanos, cacheHit, tokensGenerated, serverLatency,
                generationTime, queueTime, firstPieceNanos, text, prompt, reused, firstTokenSeconds);
    }

    /** Any other HTTP status. */
    public static RequestOutcome httpError(int status, long latencyNanos) {
        return new RequestOutcome(status, null, latencyNanos, false, 0, 0, 0, 0, 0, null, -1, -1, 0);
    }

    /** No usable response: {@code failure} says why. */
    public static RequestOutcome failed(int status, String failure, long latencyNanos) {
        return new RequestOutcome(status, failure, latencyNanos, false, 0, 0, 0, 0, 0, null, -1, -1, 0);
    }

    public boolean success() {
        return status == 200 && failure == null;
    }

    /** How the error table names this outcome: the status ("503"), or the failure. */
    public String errorKey() {
        return failure != null ? failure : Integer.toString(status);
    }
}
