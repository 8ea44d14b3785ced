package org.therapeia.api;

/**
 * A well-known request field whose feature the service does not offer ({@code tools},
 * {@code logprobs}, ...): refused with 400 naming it rather than silently ignored, so that a
 * client never believes it got what it asked for.
 */
public class UnsupportedParameterException extends InvalidRequestException {

    private static final long serialVersionUID = 1L;

    public UnsupportedParameterException(String field, String message) {
        super(field, message);
    }
}
