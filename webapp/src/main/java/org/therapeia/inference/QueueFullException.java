package org.therapeia.inference;

/** The wait queue is full: the caller should retry later (503 with Retry-After). */
public class QueueFullException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public QueueFullException(int capacity) {
        super("the request queue is full (" + capacity + " waiting)");
    }
}
