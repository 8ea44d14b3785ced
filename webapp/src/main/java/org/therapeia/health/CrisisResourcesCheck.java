package org.therapeia.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;
import org.therapeia.safety.SafetyService;

/**
 * Ready when every enabled locale's crisis resource table has an emergency number and a 24/7
 * crisis line, and no entry was verified longer ago than {@code safety.resources.max-age-days}:
 * a person in crisis must never be sent to a number nobody checked. DOWN names the reasons (the
 * locale and the entry), never a path or an exception.
 */
@Readiness
@ApplicationScoped
public class CrisisResourcesCheck implements HealthCheck {

    @Inject
    SafetyService safety;

    @Override
    public HealthCheckResponse call() {
        List<String> problems = safety.resourceProblems();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("crisis-resources").status(problems.isEmpty());
        for (int i = 0; i < problems.size(); i++) {
            b.withData("reason" + (i + 1), problems.get(i));
        }
        return b.build();
    }
}
