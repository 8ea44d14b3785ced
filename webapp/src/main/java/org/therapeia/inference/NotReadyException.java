package org.therapeia.inference;

/** The model is still loading or warming up, or failed to load (503). */
public class NotReadyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NotReadyException(String message) {
        super(message);
    }
}
