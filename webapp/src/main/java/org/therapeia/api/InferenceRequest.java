package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.therapeia.config.SamplingRanges;

/**
 * The body of {@code POST /api/v1/inference}: the seed's contract plus optional generation
 * overrides. {@link InferenceRequestReader} builds it from JSON and validates it; a null override
 * means "use the configured default".
 */
@Schema(name = "InferenceRequest", description = "What the person wrote, with the conversation so far.")
public record InferenceRequest(
        // name: Payara's OpenAPI generator reads the Java name, not @JsonbProperty
        @Schema(name = "user_input", required = true,
                description = "What the person wrote; not empty, at most limits.user-input-chars.")
        @JsonbProperty("user_input") String userInput,
        @Schema(name = "conversation_history", type = SchemaType.ARRAY, implementation = ChatMessage.class,
                description = "Earlier turns, oldest first; the last context_window are used.")
        @JsonbProperty("conversation_history") List<ChatMessage> conversationHistory,
        @Schema(name = "system_prompt", nullable = true,
                description = "Instructions for the model; default: default_system_prompt.")
        @JsonbProperty("system_prompt") String systemPrompt,
        @Schema(name = "use_cache", description = "Read and write the response cache (default true).",
                defaultValue = "true")
        @JsonbProperty("use_cache") boolean useCache,
        @Schema(name = "max_new_tokens", description = "Reply length in tokens: an integer from 1 to "
                + "limits.max-new-tokens (default 1024); else 400.", nullable = true, minimum = "1")
        @JsonbProperty("max_new_tokens") Integer maxNewTokens,
        @Schema(description = "0 = greedy decoding; else sampling, higher is more random. Must be "
                + SamplingRanges.TEMPERATURE_RULE + "; else 400.", nullable = true, minimum = "0",
                maximum = SamplingRanges.TEMPERATURE_MAX)
        @JsonbProperty("temperature") Double temperature,
        @Schema(name = "top_p", description = "Nucleus sampling; must be " + SamplingRanges.TOP_P_RULE
                + " (1 = off); else 400.", nullable = true, minimum = "0", exclusiveMinimum = true, maximum = "1")
        @JsonbProperty("top_p") Double topP,
        @Schema(name = "top_k", description = "Top-k sampling; must be " + SamplingRanges.TOP_K_RULE
                + " (beyond the vocabulary: off); else 400.", nullable = true, minimum = "0",
                maximum = SamplingRanges.TOP_K_MAX)
        @JsonbProperty("top_k") Integer topK,
        @Schema(name = "repetition_penalty", description = "Must be " + SamplingRanges.REPETITION_PENALTY_RULE
                + "; else 400.", nullable = true, minimum = SamplingRanges.REPETITION_PENALTY_MIN,
                maximum = SamplingRanges.REPETITION_PENALTY_MAX)
        @JsonbProperty("repetition_penalty") Double repetitionPenalty,
        @Schema(description = "Sampling seed, " + SamplingRanges.SEED_RULE
                + ": the same seed and input give the same reply.", nullable = true, type = SchemaType.INTEGER,
                format = "int64")
        @JsonbProperty("seed") Long seed) {

    public InferenceRequest {
        conversationHistory = conversationHistory == null ? List.of() : List.copyOf(conversationHistory);
    }
}
