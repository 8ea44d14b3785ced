package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.therapeia.safety.SafetyReport;

/**
 * Details of one generation, the seed's two fields first.
 *
 * @param generationTime  seconds from admission to the engine to the last token (0 on a cache hit)
 * @param inputTokens     prompt tokens after the chat template and history trimming
 * @param inputTokensReused leading prompt tokens whose KV the engine reused from an earlier request
 *                        (the previous turn of the conversation; the prefix cache) instead of
 *                        computing them (0 on a cache hit)
 * @param timeToFirstToken seconds from arrival to the first generated token (0 on a cache hit)
 * @param queueTime       seconds spent waiting for an engine slot
 * @param historyMessages history messages that fitted the prompt
 * @param finishReason    {@code stop} (an end-of-sequence token) or {@code length} (max_new_tokens
 *                        or the context limit)
 * @param model           the model's id
 * @param safety          the request's crisis-signal level and the resources the reply carries
 */
@Schema(name = "InferenceMetadata")
@JsonbPropertyOrder({"generation_time", "input_tokens", "input_tokens_reused", "time_to_first_token", "queue_time", "history_messages",
        "finish_reason", "model", "safety"})
public record InferenceMetadata(
        @Schema(name = "generation_time", description = "Seconds spent generating (0 on a cache hit).")
        @JsonbProperty("generation_time") double generationTime,
        @Schema(name = "input_tokens", description = "Prompt tokens.")
        @JsonbProperty("input_tokens") int inputTokens,
        @Schema(name = "input_tokens_reused", description = "Prompt tokens reused from an earlier request's KV "
                + "cache (the prefix cache) rather than computed.")
        @JsonbProperty("input_tokens_reused") int inputTokensReused,
        @Schema(name = "time_to_first_token", description = "Seconds from arrival to the first generated token.")
        @JsonbProperty("time_to_first_token") double timeToFirstToken,
        @Schema(name = "queue_time", description = "Seconds waiting for an engine slot.")
        @JsonbProperty("queue_time") double queueTime,
        @Schema(name = "history_messages", description = "History messages that fitted the prompt.")
        @JsonbProperty("history_messages") int historyMessages,
        @Schema(name = "finish_reason", description = "stop (end-of-sequence token) or length (token limit).",
                enumeration = {"stop", "length"})
        @JsonbProperty("finish_reason") String finishReason,
        @Schema(description = "The model's id.")
        @JsonbProperty("model") String model,
        @Schema(description = "Crisis-signal level of the request and the crisis resources the reply carries.")
        @JsonbProperty("safety") SafetyReport safety) {

    /** Metadata without a safety report (for callers that build one outside the safety layer). */
    public InferenceMetadata(double generationTime, int inputTokens, double timeToFirstToken, double queueTime,
                             int historyMessages, String finishReason, String model) {
        this(generationTime, inputTokens, 0, timeToFirstToken, queueTime, historyMessages, finishReason, model, null);
    }
}
