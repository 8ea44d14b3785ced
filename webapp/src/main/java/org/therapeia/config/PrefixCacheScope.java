package org.therapeia.config;

import java.util.Locale;

/**
 * Whose warm prefixes (KV kept from earlier requests) a request may reuse: the {@code
 * prefix_cache.scope} setting. Reuse makes the first token come sooner, and so tells whoever
 * measures it that someone sent the same prefix before: {@link #ISOLATED} confines that to
 * requests carrying the same {@code cache_salt}.
 */
public enum PrefixCacheScope {
    /** Any request reuses any warm prefix (the fastest; the timing side channel is open to all clients). */
    SHARED,
    /** Only requests with the same cache_salt (OpenAI: cache_salt, else user) share prefixes; others reuse nothing. */
    ISOLATED;

    static PrefixCacheScope parse(String value) {
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("configuration property prefix_cache.scope is " + value
                    + "; it must be shared or isolated");
        }
    }
}
