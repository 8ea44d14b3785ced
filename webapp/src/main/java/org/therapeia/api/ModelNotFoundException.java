package org.therapeia.api;

/**
 * A request for a model this service does not serve: answered with 404 naming the field
 * ({@code model}). The message names the served model, never what was asked for.
 */
public class ModelNotFoundException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public ModelNotFoundException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
