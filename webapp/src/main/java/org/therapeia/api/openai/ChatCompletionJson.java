package org.therapeia.api.openai;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import org.therapeia.api.InferenceResponse;

/**
 * The JSON of one chat completion: the non-streamed {@code chat.completion} object and the
 * {@code chat.completion.chunk} objects of a stream, all sharing one {@code id}, {@code created}
 * and {@code model}. Compact JSON (JSON-P's {@code toString}), one object per SSE event.
 *
 * @param id      {@code chatcmpl-...}
 * @param created seconds since the epoch, the same for every chunk of a stream
 * @param model   the served model's id
 */
public record ChatCompletionJson(String id, long created, String model) {

    public static final String DONE = "[DONE]";

    /** The {@code chat.completion} object of a non-streamed reply. */
    public JsonObject completion(InferenceResponse reply) {
        JsonObject message = Json.createObjectBuilder().add("role", "assistant").add("content", reply.response())
                .build();
        JsonObjectBuilder choice = Json.createObjectBuilder().add("index", 0).add("message", message)
                .addNull("logprobs").add("finish_reason", finishReason(reply));
        return head("chat.completion").add("choices", Json.createArrayBuilder().add(choice))
                .add("usage", usage(reply)).build();
    }

    /** The first chunk: the assistant's role, no content yet. */
    public JsonObject roleChunk() {
        return choiceChunk(Json.createObjectBuilder().add("role", "assistant"), null);
    }

    /** A chunk of content. */
    public JsonObject contentChunk(String text) {
        return choiceChunk(Json.createObjectBuilder().add("content", text), null);
    }

    /** The last choice chunk: an empty delta and why the reply ended. */
    public JsonObject finishChunk(InferenceResponse reply) {
        return choiceChunk(Json.createObjectBuilder(), finishReason(reply));
    }

    /** With include_usage, after the finish chunk: no choices, the usage. */
    public JsonObject usageChunk(InferenceResponse reply) {
        return head("chat.completion.chunk").add("choices", Json.createArrayBuilder()).add("usage", usage(reply))
                .build();
    }

    private JsonObject choiceChunk(JsonObjectBuilder delta, String finishReason) {
        JsonObjectBuilder choice = Json.createObjectBuilder().add("index", 0).add("delta", delta).addNull("logprobs");
        if (finishReason == null) {
            choice.addNull("finish_reason");
        } else {
            choice.add("finish_reason", finishReason);
        }
        JsonArrayBuilder choices = Json.createArrayBuilder().add(choice);
        return head("chat.completion.chunk").add("choices", choices).build();
    }

    private JsonObjectBuilder head(String object) {
        return Json.createObjectBuilder().add("id", id).add("object", object).add("created", created)
                .add("model", model);
    }

    private static JsonObject usage(InferenceResponse reply) {
        int prompt = reply.metadata().inputTokens();
        int completion = reply.tokensGenerated();
        return Json.createObjectBuilder().add("prompt_tokens", prompt).add("completion_tokens", completion)
                .add("total_tokens", prompt + completion)
                .add("prompt_tokens_details", Json.createObjectBuilder()
                        .add("cached_tokens", reply.metadata().inputTokensReused()))
                .build();
    }

    /** "stop" for an end-of-sequence token or a stop string, "length" at the token limit. */
    private static String finishReason(InferenceResponse reply) {
        return "length".equals(reply.metadata().finishReason()) ? "length" : "stop";
    }
}
