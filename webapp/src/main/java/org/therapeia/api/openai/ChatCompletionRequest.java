package org.therapeia.api.openai;

import org.therapeia.api.InferenceRequest;

/**
 * A chat-completion request as the service runs it: the one request model both APIs share,
 * plus how the reply is to be delivered.
 *
 * @param inference    the conversation and generation settings
 * @param stream       server-sent chunks rather than one JSON reply
 * @param includeUsage a stream ends with one more chunk carrying the usage
 */
public record ChatCompletionRequest(InferenceRequest inference, boolean stream, boolean includeUsage) {
}
