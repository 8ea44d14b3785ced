package org.therapeia.benchmark;

/** A command line the client cannot run; the message says what to change. */
public final class UsageException extends Exception {

    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
