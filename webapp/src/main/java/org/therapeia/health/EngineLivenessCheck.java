package org.therapeia.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.therapeia.config.InferenceConfig;
import org.therapeia.inference.ModelRuntime;
import org.therapeia.inference.Scheduler;

/**
 * Down when the engine thread has died, or when work is waiting and the thread has not completed
 * a turn of its loop for {@code liveness.stall-seconds} (a hung native step). Up while the model
 * loads: a slow load is the startup check's business.
 */
@Liveness
@ApplicationScoped
public class EngineLivenessCheck implements HealthCheck {

    @Inject
    ModelRuntime runtime;

    @Inject
    InferenceConfig config;

    @Override
    public HealthCheckResponse call() {
        Scheduler scheduler = runtime.schedulerOrNull();
        if (scheduler == null) {
            return HealthCheckResponse.named("engine-thread").up().withData("state", runtime.state().name()).build();
        }
        long sinceHeartbeat = System.nanoTime() - scheduler.heartbeatNanos();
        // the engine thread ends on purpose at the end of a shutdown's drain
        boolean alive = scheduler.isThreadAlive() || scheduler.isShuttingDown();
        boolean stalled = scheduler.hasWork() && sinceHeartbeat > config.livenessStall().toNanos();
        return HealthCheckResponse.named("engine-thread")
                .status(alive && !stalled)
                .withData("thread_alive", scheduler.isThreadAlive())
                .withData("seconds_since_progress", String.format(java.util.Locale.ROOT, "%.1f", sinceHeartbeat / 1e9))
                .withData("queue_depth", scheduler.queueDepth())
                .withData("running", scheduler.running())
                .build();
    }
}
