package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TherapeiaApplicationTest {

    @Test
    void jerseysWadlIsOffSoThatOptionsRevealsNothingPastTheApiKey() {
        // Jersey's property name: a typo here would silently leave WADL on
        assertEquals(true, new TherapeiaApplication().getProperties().get("jersey.config.server.wadl.disableWadl"));
    }
}
