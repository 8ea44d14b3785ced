package org.therapeia.inference;

/** Even the system prompt and the user input alone, plus the reply's tokens, exceed the context. */
public class PromptTooLongException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PromptTooLongException(String message) {
        super(message);
    }
}
