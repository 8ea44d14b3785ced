package org.therapeia.inference;

/** Thrown by the template function {@code raise_exception(message)}; carries the template's message. */
final class TemplateRaisedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    TemplateRaisedException(String message) {
        super(message);
    }
}
