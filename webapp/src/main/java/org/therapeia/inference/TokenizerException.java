package org.therapeia.inference;

/** A tokenizer or tokenizer configuration that cannot be loaded or used; the message names the file. */
public class TokenizerException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
