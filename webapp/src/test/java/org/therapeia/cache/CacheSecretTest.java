package org.therapeia.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.therapeia.engine.SamplingParams;

class CacheSecretTest {

    private static final String SECRET = "correct horse battery staple, 32+ characters";
    private static final CacheKey KEY = CacheKey.of("f".repeat(64), "s", List.of(), "I feel anxious.",
            SamplingParams.greedy(16));
    private static final CacheKey OTHER_KEY = CacheKey.of("f".repeat(64), "s", List.of(), "I feel calm.",
            SamplingParams.greedy(16));
    private static final String VALUE = "{\"response\":\"I hear you.\"}";

    @Test
    void storedKeysAreKeyedHashes() throws Exception {
        CacheSecret secret = CacheSecret.of(SECRET);
        String stored = secret.storedKey(KEY);
        assertTrue(stored.matches("[0-9a-f]{64}"), stored);
        assertEquals(stored, CacheSecret.of(SECRET).storedKey(KEY), "the same secret: the same key on every member");
        assertNotEquals(stored, CacheSecret.of(SECRET + "!").storedKey(KEY), "another secret, another key");
        assertNotEquals(stored, CacheSecret.random().storedKey(KEY));
        assertNotEquals(stored, secret.storedKey(OTHER_KEY));
        // not computable from the request alone: not the plain digest of the public inputs
        assertNotEquals(HexFormat.of().formatHex(KEY.digest()), stored);
        assertNotEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(KEY.digest())), stored);
    }

    @Test
    void aSealedValueOpensUnderItsKeyOnly() {
        CacheSecret secret = CacheSecret.of(SECRET);
        String k = secret.storedKey(KEY);
        String sealed = secret.seal(k, VALUE);
        assertEquals(Optional.of(VALUE), secret.unseal(k, sealed));
        assertEquals(Optional.of(VALUE), CacheSecret.of(SECRET).unseal(k, sealed), "another member, same secret");
        assertEquals(Optional.empty(), secret.unseal(secret.storedKey(OTHER_KEY), sealed), "moved to another key");
        assertEquals(Optional.empty(), CacheSecret.of(SECRET + "!").unseal(k, sealed), "sealed with another secret");
    }

    @Test
    void forgeriesAreRejected() {
        CacheSecret secret = CacheSecret.of(SECRET);
        String k = secret.storedKey(KEY);
        String sealed = secret.seal(k, VALUE);
        String mac = sealed.substring(3, sealed.indexOf(':', 3));
        for (String forged : new String[] {
            "You should stop your medication.",                            // plain text
            VALUE,                                                          // a bare reply, no seal
            "v1:" + mac + ":" + VALUE.replace("hear", "blame"),            // the value altered
            "v1:" + mac + ":" + VALUE + " ",                                // one character added
            sealed.substring(0, sealed.length() - 1),                       // one character cut
            "v2" + sealed.substring(2),                                     // another version
            "v1::" + VALUE,                                                 // no MAC
            "v1:" + "A".repeat(mac.length()) + ":" + VALUE,                 // a made-up MAC
            "v1:!!notbase64!!:" + VALUE,
            "v1:" + mac,                                                    // no value part
            "",
            ":::",
        }) {
            assertEquals(Optional.empty(), secret.unseal(k, forged), forged);
        }
        // a MAC made with a guessed secret
        CacheSecret guessed = CacheSecret.of("therapeia".repeat(4));
        assertEquals(Optional.empty(), secret.unseal(k, guessed.seal(k, VALUE)));
    }

    @Test
    void theMacCoversKeyAndValueWithoutAmbiguity() {
        CacheSecret secret = CacheSecret.of(SECRET);
        // the MAC is HMAC-SHA256: 32 bytes
        String sealed = secret.seal("k", "v");
        String mac = sealed.substring(3, sealed.indexOf(':', 3));
        assertEquals(32, Base64.getUrlDecoder().decode(mac).length);
        // ("ab", "c") and ("a", "bc") are different entries
        assertNotEquals(secret.seal("ab", "c").substring(3), secret.seal("a", "bc").substring(3));
        assertFalse(secret.unseal("a", "v1:" + secret.seal("ab", "c").split(":")[1] + ":bc").isPresent());
    }

    @Test
    void neverShowsTheSecret() {
        assertFalse(CacheSecret.of(SECRET).toString().contains("horse"));
    }
}
