package org.therapeia.safety;

import java.util.logging.Logger;

/**
 * Writes one content-free record per request with a crisis signal through its own logger,
 * {@value #LOGGER}, so that operators can route it (a separate file, a retention policy, a
 * SIEM) apart from the server log. Each record is one JSON object on one line.
 */
final class SafetyAudit {

    static final String LOGGER = "org.therapeia.safety.audit";

    private static final Logger AUDIT = Logger.getLogger(LOGGER);

    private SafetyAudit() {
    }

    static void record(SafetyEvent event) {
        AUDIT.info(event.toJson().toString());
    }
}
