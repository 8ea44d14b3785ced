package org.therapeia.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Startup;
import org.therapeia.inference.ModelRuntime;

/** Started once the model is loaded into the engine (warm-up may still run); never after a failed load. */
@Startup
@ApplicationScoped
public class ModelStartupCheck implements HealthCheck {

    @Inject
    ModelRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("model-load")
                .status(runtime.modelLoaded())
                .withData("state", runtime.state().name())
                .withData("warmup_submitted", runtime.warmupSubmitted());
        if (runtime.failure() != null) {
            b.withData("error", runtime.failure());
        }
        return b.build();
    }
}
