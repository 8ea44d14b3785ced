package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminTokenTest {

    @Test
    void headerOrBearer() {
        Optional<String> t = Optional.of("s3cret");
        assertTrue(AdminToken.matches(t, "s3cret", null));
        assertTrue(AdminToken.matches(t, null, "Bearer s3cret"));
        assertTrue(AdminToken.matches(t, "", "bearer s3cret"));
        assertFalse(AdminToken.matches(t, "wrong", null));
        assertFalse(AdminToken.matches(t, null, "Basic s3cret"));
        assertFalse(AdminToken.matches(t, null, null));
    }

    @Test
    void noConfiguredTokenRefusesEveryone() {
        assertFalse(AdminToken.matches(Optional.empty(), "", null));
        assertFalse(AdminToken.matches(Optional.empty(), "anything", "Bearer anything"));
    }
}
