package org.therapeia.api;

import jakarta.json.bind.annotation.JsonbProperty;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

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
        @Schema(name = "max_new_tokens", description = "Reply length in tokens, 1 to limits.max-new-tokens.",
                nullable = true, minimum = "1")
        @JsonbProperty("max_new_tokens") Integer maxNewTokens,
        @Schema(description = "0 = greedy; higher is more random.", nullable = true, minimum = "0")
        @JsonbProperty("temperature") Double temperature,
        @Schema(name = "top_p", description = "Nucleus sampling, in (0, 1].", nullable = true, minimum = "0",
                exclusiveMinimum = true, maximum = "1")
        @JsonbProperty("top_p") Double topP,
        @Schema(name = "top_k", description = "Top-k sampling; 0 = off.", nullable = true, minimum = "0")
        @JsonbProperty("top_k") Integer topK,
        @Schema(name = "repetition_penalty", description = "Greater than 0; 1 = off.", nullable = true, minimum = "0",
                exclusiveMinimum = true)
        @JsonbProperty("repetition_penalty") Double repetitionPenalty,
        @Schema(description = "Sampling seed: the same seed and input give the same reply.", nullable = true)
        @JsonbProperty("seed") Long seed,
        @Schema(description = "The person's locale (BCP 47, e.g. en-GB): picks the crisis resources; "
                + "default: Accept-Language, else safety.resources.default-locale.", nullable = true)
        @JsonbProperty("locale") String locale) {

    public InferenceRequest {
        conversationHistory = conversationHistory == null ? List.of() : List.copyOf(conversationHistory);
    }

    /** A request without a locale. */
    public InferenceRequest(String userInput, List<ChatMessage> conversationHistory, String systemPrompt,
                            boolean useCache, Integer maxNewTokens, Double temperature, Double topP, Integer topK,
                            Double repetitionPenalty, Long seed) {
        this(userInput, conversationHistory, systemPrompt, useCache, maxNewTokens, temperature, topP, topK,
                repetitionPenalty, seed, null);
    }

    /** This request with {@code fallback} (an Accept-Language header) as its locale when it names none. */
    public InferenceRequest withDefaultLocale(String fallback) {
        return locale != null || fallback == null ? this : new InferenceRequest(userInput, conversationHistory,
                systemPrompt, useCache, maxNewTokens, temperature, topP, topK, repetitionPenalty, seed, fallback);
    }
}
