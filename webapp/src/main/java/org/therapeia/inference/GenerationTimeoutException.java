package org.therapeia.inference;

import java.time.Duration;

/** A generation ran past request.timeout; its sequence was cancelled. */
public class GenerationTimeoutException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public GenerationTimeoutException(Duration timeout) {
        super("the generation did not finish within " + timeout.toMillis() / 1000.0 + " s and was cancelled");
    }
}
