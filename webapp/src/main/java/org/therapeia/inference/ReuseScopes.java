package org.therapeia.inference;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.therapeia.config.PrefixCacheScope;
import org.therapeia.engine.Engine;
import org.therapeia.engine.SamplingParams;

/**
 * The engine's reuse scope of a request (see {@link Engine#add(int[], SamplingParams, long)}): whose
 * warm prefixes it may reuse, and who may reuse its own. Shared: everyone's. Isolated: requests
 * with the same cache_salt share a scope, a keyed hash of the salt (the salt itself never reaches
 * the engine, a log or a metric); a request without one gets a scope of its own and reuses nothing.
 *
 * <p>The key is random per process: warm slots live in this process's memory only, so a scope
 * never needs to mean the same thing elsewhere or after a restart.
 */
final class ReuseScopes {

    private static final String HMAC = "HmacSHA256";

    private final SecretKeySpec key;
    private final AtomicLong unsalted = new AtomicLong();

    ReuseScopes() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        key = new SecretKeySpec(secret, HMAC);
    }

    long of(PrefixCacheScope scope, String cacheSalt) {
        if (scope == PrefixCacheScope.SHARED) {
            return Engine.SHARED_SCOPE;
        }
        if (cacheSalt == null) {
            return -unsalted.incrementAndGet(); // negative: never a salted scope, never shared
        }
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            long hash = ByteBuffer.wrap(mac.doFinal(cacheSalt.getBytes(StandardCharsets.UTF_8))).getLong();
            long positive = hash & Long.MAX_VALUE;
            return positive == Engine.SHARED_SCOPE ? 1 : positive;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC + " is missing from this Java runtime", e);
        }
    }
}
