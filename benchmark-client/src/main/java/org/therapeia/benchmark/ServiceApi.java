package org.therapeia.benchmark;

import java.util.Iterator;

/**
 * How one of the service's APIs is spoken: where a request goes, what it sends, and how a 200's
 * body reads. The HTTP itself (timeouts, failures, the API key) is {@link InferenceClient}'s.
 */
public interface ServiceApi {

    /** The endpoint, relative to the base URL ("api/v1/inference", no leading slash). */
    String path(boolean streamed);

    /** The request's {@code Accept}. */
    String accept(boolean streamed);

    /** The header that carries the service's {@code api.key}. */
    String apiKeyHeader();

    /** Its value for {@code key}. */
    String apiKeyValue(String key);

    /**
     * The request body.
     *
     * @param useCache     whether the service may answer from its response cache
     * @param maxNewTokens the reply's length limit; null = the service's default
     */
    String requestBody(RequestInput input, boolean useCache, Integer maxNewTokens, boolean streamed);

    /** A plain 200's body; one without the contract's fields is an {@link RequestOutcome#INVALID_RESPONSE}. */
    RequestOutcome readReply(String body, long latencyNanos);

    /**
     * A streamed 200's lines, read as they come ({@code startNanos}, when the request was sent, on
     * the {@link System#nanoTime()} scale): the latency ends with the stream, the time to the first
     * piece with the first event that carries text.
     */
    RequestOutcome readStream(Iterator<String> lines, long startNanos);
}
