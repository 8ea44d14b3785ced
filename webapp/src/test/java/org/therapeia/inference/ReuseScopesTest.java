package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.therapeia.config.PrefixCacheScope;
import org.therapeia.engine.Engine;

class ReuseScopesTest {

    private final ReuseScopes scopes = new ReuseScopes();

    @Test
    void sharedIgnoresTheSalt() {
        assertEquals(Engine.SHARED_SCOPE, scopes.of(PrefixCacheScope.SHARED, null));
        assertEquals(Engine.SHARED_SCOPE, scopes.of(PrefixCacheScope.SHARED, "alice"));
    }

    @Test
    void isolatedGivesEachSaltItsOwnScopeAndEachUnsaltedRequestOneOfItsOwn() {
        long alice = scopes.of(PrefixCacheScope.ISOLATED, "alice");
        assertEquals(alice, scopes.of(PrefixCacheScope.ISOLATED, "alice"));
        assertNotEquals(alice, scopes.of(PrefixCacheScope.ISOLATED, "bob"));
        assertTrue(alice > 0, "never the shared scope, never an unsalted one");
        long first = scopes.of(PrefixCacheScope.ISOLATED, null);
        long second = scopes.of(PrefixCacheScope.ISOLATED, null);
        assertTrue(first < 0 && second < 0 && first != second);
    }

    @Test
    void theHashIsKeyedPerProcess() {
        assertNotEquals(new ReuseScopes().of(PrefixCacheScope.ISOLATED, "alice"),
                scopes.of(PrefixCacheScope.ISOLATED, "alice"));
    }
}
