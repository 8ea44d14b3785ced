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
                description = "Earlier turns, oldest first; at most context_window of the most recent are used, "
                        + "cut in steps of context_window.step (see the README, The history window).")
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
        @JsonbProperty("seed") Long seed,
        @Schema(name = "frequency_penalty", description = "OpenAI's frequency penalty over the reply's own tokens; "
                + "must be " + SamplingRanges.PENALTY_RULE + "; else 400.", nullable = true,
                minimum = SamplingRanges.PENALTY_MIN, maximum = SamplingRanges.PENALTY_MAX)
        @JsonbProperty("frequency_penalty") Double frequencyPenalty,
        @Schema(name = "presence_penalty", description = "OpenAI's presence penalty over the reply's own tokens; "
                + "must be " + SamplingRanges.PENALTY_RULE + "; else 400.", nullable = true,
                minimum = SamplingRanges.PENALTY_MIN, maximum = SamplingRanges.PENALTY_MAX)
        @JsonbProperty("presence_penalty") Double presencePenalty,
        @Schema(description = "Stop strings: the reply ends before the first one it would contain; "
                + SamplingRanges.STOP_RULE + "; else 400.", nullable = true, type = SchemaType.ARRAY,
                implementation = String.class)
        @JsonbProperty("stop") List<String> stop,
        @Schema(description = "The person's locale (BCP 47, e.g. en-GB): picks the crisis resources; "
                + "default: Accept-Language, else safety.resources.default-locale.", nullable = true)
        @JsonbProperty("locale") String locale,
        @Schema(name = "cache_salt", description = "Who may reuse this request's prompt prefix (KV cache) "
                + "and its response cache entry when prefix_cache.scope is isolated: only requests with the same "
                + "cache_salt (without one, none). Never stored or logged; only keyed hashes of it reach the "
                + "engine and the cache.", nullable = true)
        @JsonbProperty("cache_salt") String cacheSalt) {

    public InferenceRequest {
        conversationHistory = conversationHistory == null ? List.of() : List.copyOf(conversationHistory);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** Without penalties, stop strings and locale. */
    public InferenceRequest(String userInput, List<ChatMessage> conversationHistory, String systemPrompt,
                            boolean useCache, Integer maxNewTokens, Double temperature, Double topP, Integer topK,
                            Double repetitionPenalty, Long seed) {
        this(userInput, conversationHistory, systemPrompt, useCache, maxNewTokens, temperature, topP, topK,
                repetitionPenalty, seed, null, null, List.of(), null, null);
    }

    /** Without penalties and stop strings. */
    public InferenceRequest(String userInput, List<ChatMessage> conversationHistory, String systemPrompt,
                            boolean useCache, Integer maxNewTokens, Double temperature, Double topP, Integer topK,
                            Double repetitionPenalty, Long seed, String locale) {
        this(userInput, conversationHistory, systemPrompt, useCache, maxNewTokens, temperature, topP, topK,
                repetitionPenalty, seed, null, null, List.of(), locale, null);
    }

    /** Without a locale. */
    public InferenceRequest(String userInput, List<ChatMessage> conversationHistory, String systemPrompt,
                            boolean useCache, Integer maxNewTokens, Double temperature, Double topP, Integer topK,
                            Double repetitionPenalty, Long seed, Double frequencyPenalty, Double presencePenalty,
                            List<String> stop) {
        this(userInput, conversationHistory, systemPrompt, useCache, maxNewTokens, temperature, topP, topK,
                repetitionPenalty, seed, frequencyPenalty, presencePenalty, stop, null, null);
    }

    /** This request with {@code fallback} (an Accept-Language header) as its locale when it names none. */
    public InferenceRequest withDefaultLocale(String fallback) {
        return locale != null || fallback == null ? this : new InferenceRequest(userInput, conversationHistory,
                systemPrompt, useCache, maxNewTokens, temperature, topP, topK, repetitionPenalty, seed,
                frequencyPenalty, presencePenalty, stop, fallback, cacheSalt);
    }

    /** This request with {@code salt} as its cache_salt (null: none). */
    public InferenceRequest withCacheSalt(String salt) {
        return new InferenceRequest(userInput, conversationHistory, systemPrompt, useCache, maxNewTokens, temperature,
                topP, topK, repetitionPenalty, seed, frequencyPenalty, presencePenalty, stop, locale, salt);
    }
}
