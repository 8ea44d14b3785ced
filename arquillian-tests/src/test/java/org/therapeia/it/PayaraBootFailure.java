package org.therapeia.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Payara's own failure to boot, which a node of a test may meet and is then started again, once.
 *
 * <p>Seen once in a full run on the 2-core machine under load: Payara Micro's main thread had no
 * context class loader when Payara installed its own JACC policy provider ({@code
 * NCLS-SECURITY-01144}, "Error while installing policy provider"), so the deployment of the WAR
 * failed before any of its code ran, and the node answered 404 until the test gave up. Nothing of
 * the service is involved; a second start of the same command succeeds.
 */
final class PayaraBootFailure {

    private static final String POLICY_PROVIDER_NOT_INSTALLED = "NCLS-SECURITY-01144";

    private PayaraBootFailure() {
    }

    /** Whether this node's log shows Payara failing to install its policy provider. */
    static boolean seenIn(String log) {
        return log.contains(POLICY_PROVIDER_NOT_INSTALLED);
    }

    /** Keeps the failed boot's log beside the new one (the restarted process writes {@code log} afresh). */
    static void keepLog(Path log) throws IOException {
        Files.move(log, log.resolveSibling(log.getFileName() + ".failed-boot"), StandardCopyOption.REPLACE_EXISTING);
        System.err.println("Payara failed to install its policy provider (" + log + ".failed-boot): starting again");
    }
}
