package org.therapeia.api;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.info.Info;

/** The REST API under /api/v1 (MicroProfile Health and Metrics keep their own /health and /metrics). */
@ApplicationPath("/api/v1")
@OpenAPIDefinition(info = @Info(title = "Therapeia", version = "0.1.0",
        description = "Low-latency inference for therapeutic conversational AI. Health: /health/ready, "
                + "/health/live, /health/started. Prometheus metrics: /metrics."))
public class TherapeiaApplication extends Application {
}
