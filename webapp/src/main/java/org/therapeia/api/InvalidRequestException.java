package org.therapeia.api;

/**
 * A request the service will not process: answered with 400 and a problem body naming
 * {@link #field()}. The message describes the rule broken, never the value sent.
 */
public class InvalidRequestException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The JSON field at fault ({@code conversation_history[2].role}), or {@code body}. */
    public String field() {
        return field;
    }
}
