package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class SharedSecretTest {

    @Test
    void headerOrBearer() {
        Optional<String> t = Optional.of("s3cret");
        assertTrue(SharedSecret.matches(t, "s3cret", null));
        assertTrue(SharedSecret.matches(t, null, "Bearer s3cret"));
        assertTrue(SharedSecret.matches(t, "", "bearer s3cret"));
        assertFalse(SharedSecret.matches(t, "wrong", null));
        assertFalse(SharedSecret.matches(t, null, "Basic s3cret"));
        assertFalse(SharedSecret.matches(t, null, null));
    }

    @Test
    void noConfiguredTokenRefusesEveryone() {
        assertFalse(SharedSecret.matches(Optional.empty(), "", null));
        assertFalse(SharedSecret.matches(Optional.empty(), "anything", "Bearer anything"));
    }
}
