package org.therapeia.inference;

/** The scheduler is stopping (undeploy or shutdown) and takes no more work. */
public class SchedulerClosedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SchedulerClosedException() {
        super("the inference engine is shutting down");
    }
}
