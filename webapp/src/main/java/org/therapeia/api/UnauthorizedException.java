package org.therapeia.api;

/**
 * A request without the secret its endpoint requires (the admin token, the API key): answered
 * with 401, {@code WWW-Authenticate: Bearer} and a problem body naming {@link #field()} when one
 * header is at fault. The message says which secret is missing, never what was sent.
 */
public class UnauthorizedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public UnauthorizedException(String message, String field) {
        super(message);
        this.field = field;
    }

    /** The header at fault ({@code X-API-Key}), or null. */
    public String field() {
        return field;
    }
}
