package org.therapeia.benchmark;

import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonGenerator;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The OpenAI-compatible API: {@code POST /v1/chat/completions} with the conversation as
 * {@code messages} and the API key as a bearer token, as every OpenAI client sends them. A
 * streamed request asks for {@code include_usage}, so that its last chunk counts the tokens.
 *
 * <p>OpenAI's request has no {@code use_cache}: with the cache off, each request carries a
 * {@code seed} of its own (counting up from a first one drawn at random for the run), which the
 * service's cache key includes, so that no request is answered from it, neither by this run's
 * entries nor by an earlier run's (a seeded sampled reply is as random as an unseeded one). OpenAI's reply has no
 * {@code cache_hit} nor engine times ({@link Api#reportsServerFigures()}).
 */
final class OpenAiApi implements ServiceApi {

    static final String CHAT_PATH = "v1/chat/completions";
    static final String MODELS_PATH = "v1/models";

    private static final JsonProvider JSON = JsonProvider.provider();

    private final String model;
    private final AtomicLong nextSeed;

    /**
     * @param model     what requests name in {@code model}: the served model or an alias
     * @param firstSeed the seed of the first request sent with the cache off (the next ones count up)
     */
    OpenAiApi(String model, long firstSeed) {
        this.model = model;
        this.nextSeed = new AtomicLong(firstSeed);
    }

    @Override
    public String path(boolean streamed) {
        return CHAT_PATH;
    }

    @Override
    public String accept(boolean streamed) {
        return streamed ? "text/event-stream" : "application/json";
    }

    @Override
    public String apiKeyHeader() {
        return "Authorization";
    }

    @Override
    public String apiKeyValue(String key) {
        return "Bearer " + key;
    }

    @Override
    public String requestBody(RequestInput input, boolean useCache, Integer maxNewTokens, boolean streamed) {
        StringWriter out = new StringWriter();
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.write("model", model);
            json.writeStartArray("messages");
            if (input.systemPrompt() != null) {
                json.writeStartObject().write("role", "system").write("content", input.systemPrompt()).writeEnd();
            }
            for (ChatTurn turn : input.history()) {
                json.writeStartObject().write("role", turn.role()).write("content", turn.content()).writeEnd();
            }
            json.writeStartObject().write("role", "user").write("content", input.userInput()).writeEnd();
            json.writeEnd();
            if (maxNewTokens != null) {
                json.write("max_completion_tokens", maxNewTokens);
            }
            if (input.temperature() != null) {
                json.write("temperature", input.temperature());
            }
            if (!useCache) {
                json.write("seed", nextSeed.getAndIncrement());
            }
            if (streamed) {
                json.write("stream", true);
                json.writeStartObject("stream_options").write("include_usage", true).writeEnd();
            }
            json.writeEnd();
        }
        return out.toString();
    }

    /**
     * A {@code chat.completion}: a choice with a message, and the usage's {@code completion_tokens}
     * (and {@code prompt_tokens}, {@code prompt_tokens_details.cached_tokens} when given).
     */
    @Override
    public RequestOutcome readReply(String body, long latencyNanos) {
        try (JsonReader reader = JSON.createReader(new StringReader(body))) {
            JsonObject json = reader.readObject();
            if (!(json.get("choices") instanceof JsonArray choices) || choices.isEmpty()
                    || !(choices.get(0) instanceof JsonObject choice)
                    || !(choice.get("message") instanceof JsonObject message)
                    || !(json.get("usage") instanceof JsonObject usage)
                    || !(usage.get("completion_tokens") instanceof JsonNumber tokens)) {
                return RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, latencyNanos);
            }
            PromptUsage prompt = PromptUsage.of(usage);
            return RequestOutcome.success(latencyNanos, false, tokens.intValue(), 0, 0).withReply(
                    message.get("content") instanceof JsonString text ? text.getString() : null,
                    prompt.promptTokens(), prompt.cachedTokens(), 0);
        } catch (JsonException | IllegalStateException | ClassCastException e) {
            return RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, latencyNanos);
        }
    }

    /** An error event fails the request by its code; without [DONE] or the usage chunk it is invalid. */
    @Override
    public RequestOutcome readStream(Iterator<String> lines, long startNanos) {
        ChatCompletionStream stream = ChatCompletionStream.read(lines, startNanos);
        long latency = System.nanoTime() - startNanos;
        if (stream.error() != null) {
            return RequestOutcome.failed(200, "stream_error_" + stream.error(), latency);
        }
        if (!stream.done() || stream.malformed() || stream.completionTokens() < 0) {
            return RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, latency);
        }
        RequestOutcome outcome = RequestOutcome.success(latency, false, stream.completionTokens(), 0, 0)
                .withReply(stream.content(), stream.prompt().promptTokens(), stream.prompt().cachedTokens(), 0);
        return stream.firstPieceNanos() > 0 ? outcome.withFirstPiece(stream.firstPieceNanos()) : outcome;
    }
}
