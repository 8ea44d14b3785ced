package org.therapeia.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;
import org.therapeia.inference.ModelRuntime;

/**
 * Started once the model is loaded into the engine (warm-up may still run); never after a failed
 * load. A failed load shows as state FAILED; its cause (file paths, exception text) is in the server
 * log only.
 */
@Startup
@ApplicationScoped
public class ModelStartupCheck implements HealthCheck {

    @Inject
    ModelRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("model-load")
                .status(runtime.modelLoaded())
                .withData("state", runtime.state().name())
                .withData("warmup_submitted", runtime.warmupSubmitted())
                .build();
    }
}
