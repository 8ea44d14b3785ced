package org.therapeia.inference;

/** The scheduler is stopping (undeploy or shutdown): it takes no more work, or could not finish this one in time. */
public class SchedulerClosedException extends ShuttingDownException {

    private static final long serialVersionUID = 1L;

    public SchedulerClosedException() {
        this("the inference engine is shutting down");
    }

    public SchedulerClosedException(String message) {
        super(message);
    }
}
