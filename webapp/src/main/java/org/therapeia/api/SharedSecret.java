package org.therapeia.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * A configured secret presented in its own header ({@code X-Admin-Token}, {@code X-API-Key}) or
 * as {@code Authorization: Bearer}, compared in constant time. With no secret configured,
 * nothing matches.
 */
public final class SharedSecret {

    private SharedSecret() {
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
