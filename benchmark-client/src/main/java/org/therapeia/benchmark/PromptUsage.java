package org.therapeia.benchmark;

import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;

/**
 * The prompt's part of an OpenAI {@code usage} object: {@code prompt_tokens}, and of those the
 * ones reused from an earlier request's KV cache, {@code prompt_tokens_details.cached_tokens}.
 *
 * @param promptTokens -1 when the usage has none
 * @param cachedTokens -1 when the usage has no prompt tokens; 0 when it has them but no details (a
 *                     service that reuses nothing need not say so)
 */
record PromptUsage(int promptTokens, int cachedTokens) {

    static final PromptUsage UNKNOWN = new PromptUsage(-1, -1);

    static PromptUsage of(JsonObject usage) {
        if (!(usage.get("prompt_tokens") instanceof JsonNumber prompt)) {
            return UNKNOWN;
        }
        int cached = usage.get("prompt_tokens_details") instanceof JsonObject details
                && details.get("cached_tokens") instanceof JsonNumber n ? n.intValue() : 0;
        return new PromptUsage(prompt.intValue(), cached);
    }
}
