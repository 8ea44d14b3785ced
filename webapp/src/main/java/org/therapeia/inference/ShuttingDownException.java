package org.therapeia.inference;

/**
 * The service is stopping (SIGTERM or undeploy): a new request is refused, and a generation the
 * drain could not finish ends, with 503 and Retry-After (another instance, or this one once
 * redeployed, can answer).
 */
public class ShuttingDownException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ShuttingDownException(String message) {
        super(message);
    }
}
