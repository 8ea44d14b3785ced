package org.therapeia.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The operator's token check: the {@code X-Admin-Token} header or {@code Authorization: Bearer},
 * compared in constant time. With no {@code admin.token} configured, nothing matches.
 */
public final class AdminToken {

    private AdminToken() {
    }

    public static boolean matches(Optional<String> configured, String headerToken, String authorization) {
        if (configured.isEmpty()) {
            return false;
        }
        String presented = headerToken;
        if ((presented == null || presented.isBlank()) && authorization != null
                && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            presented = authorization.substring(7);
        }
        if (presented == null) {
            return false;
        }
        return MessageDigest.isEqual(configured.get().getBytes(StandardCharsets.UTF_8),
                presented.strip().getBytes(StandardCharsets.UTF_8));
    }
}
