package org.therapeia.benchmark;

import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonGenerator;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.Iterator;

/**
 * The seed's API: {@code POST /api/v1/inference} with {@code {user_input, conversation_history,
 * use_cache, max_new_tokens}} (and {@code system_prompt}, {@code temperature} when the input has
 * them), answered with {@code {response, latency, cache_hit, tokens_generated, metadata:
 * {generation_time, queue_time, input_tokens, input_tokens_reused, time_to_first_token, ...}}};
 * {@code /api/v1/inference/stream}
 * answers with {@code token} events and a {@code done} event carrying the same object.
 */
final class SeedApi implements ServiceApi {

    static final String INFERENCE_PATH = "api/v1/inference";
    static final String STREAM_PATH = "api/v1/inference/stream";
    static final String API_KEY_HEADER = "X-API-Key";

    private static final JsonProvider JSON = JsonProvider.provider();

    @Override
    public String path(boolean streamed) {
        return streamed ? STREAM_PATH : INFERENCE_PATH;
    }

    @Override
    public String accept(boolean streamed) {
        return streamed ? "text/event-stream" : "application/json";
    }

    @Override
    public String apiKeyHeader() {
        return API_KEY_HEADER;
    }

    @Override
    public String apiKeyValue(String key) {
        return key;
    }

    /** The seed's fields, plus max_new_tokens when given (the same body for both endpoints). */
    @Override
    public String requestBody(RequestInput input, boolean useCache, Integer maxNewTokens, boolean streamed) {
        StringWriter out = new StringWriter();
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.write("user_input", input.userInput());
            json.writeStartArray("conversation_history");
            for (ChatTurn turn : input.history()) {
                json.writeStartObject().write("role", turn.role()).write("content", turn.content()).writeEnd();
            }
            json.writeEnd();
            if (input.systemPrompt() != null) {
                json.write("system_prompt", input.systemPrompt());
            }
            if (input.temperature() != null) {
                json.write("temperature", input.temperature());
            }
            json.write("use_cache", useCache);
            if (maxNewTokens != null) {
                json.write("max_new_tokens", maxNewTokens);
            }
            json.writeEnd();
        }
        return out.toString();
    }

    @Override
    public RequestOutcome readReply(String body, long latencyNanos) {
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
            int prompt = metadata.get("input_tokens") instanceof JsonNumber p ? p.intValue() : -1;
            // a service without the prefix cache does not report reuse: it reused nothing
            int reused = prompt < 0 ? -1
                    : metadata.get("input_tokens_reused") instanceof JsonNumber r ? r.intValue() : 0;
            return RequestOutcome.success(latencyNanos, cacheHit, tokens.intValue(), latency.doubleValue(),
                    generationTime.doubleValue(), queueTime).withReply(
                    json.get("response") instanceof JsonString text ? text.getString() : null, prompt, reused,
                    metadata.get("time_to_first_token") instanceof JsonNumber ttft ? ttft.doubleValue() : 0);
        } catch (JsonException | IllegalStateException | ClassCastException e) {
            return RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, latencyNanos);
        }
    }

    /** The {@code done} event's data read as the plain reply; an {@code error} event fails by its status. */
    @Override
    public RequestOutcome readStream(Iterator<String> lines, long startNanos) {
        StreamedReply reply = StreamedReply.read(lines, startNanos);
        long latency = System.nanoTime() - startNanos;
        if (reply.done() == null) {
            return RequestOutcome.failed(200, reply.error() != null ? "stream_error_" + reply.error()
                    : RequestOutcome.INVALID_RESPONSE, latency);
        }
        RequestOutcome outcome = readReply(reply.done(), latency);
        return reply.firstPieceNanos() > 0 ? outcome.withFirstPiece(reply.firstPieceNanos()) : outcome;
    }
}
