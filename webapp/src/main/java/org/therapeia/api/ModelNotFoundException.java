package org.therapeia.api;

import java.util.List;

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

    /** The refusal of a name other than {@code served} (the served model's id first, then its aliases). */
    public static ModelNotFoundException notServed(String field, List<String> served) {
        return new ModelNotFoundException(field, "this service serves the model " + served.get(0)
                + (served.size() > 1 ? " (also called " + String.join(", ", served.subList(1, served.size())) + ")"
                : "") + " only (GET /v1/models)");
    }

    public String field() {
        return field;
    }
}
