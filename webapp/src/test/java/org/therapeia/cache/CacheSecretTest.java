package org.therapeia.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
    private static final long EXPIRES = 1_800_000_000_000L;

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
        String sealed = secret.seal(k, VALUE, EXPIRES);
        assertEquals(Optional.of(new CacheSecret.Opened(VALUE, EXPIRES)), secret.unseal(k, sealed));
        assertEquals(Optional.of(new CacheSecret.Opened(VALUE, EXPIRES)), CacheSecret.of(SECRET).unseal(k, sealed),
                "another member, same secret");
        assertEquals(Optional.empty(), secret.unseal(secret.storedKey(OTHER_KEY), sealed), "moved to another key");
        assertEquals(Optional.empty(), CacheSecret.of(SECRET + "!").unseal(k, sealed), "sealed with another secret");
    }

    @Test
    void aSealedValueHidesTheReply() {
        CacheSecret secret = CacheSecret.of(SECRET);
        String k = secret.storedKey(KEY);
        String sealed = secret.seal(k, VALUE, EXPIRES);
        // anyone on the grid reads the values: no reply text, and no two seals of one reply alike
        assertFalse(sealed.contains("hear"), sealed);
        assertFalse(new String(Base64.getUrlDecoder().decode(sealed.substring(sealed.lastIndexOf(':') + 1)),
                StandardCharsets.ISO_8859_1).contains("hear"), sealed);
        assertNotEquals(sealed, secret.seal(k, VALUE, EXPIRES), "a fresh nonce each time");
    }

    @Test
    void forgeriesAreRejected() {
        CacheSecret secret = CacheSecret.of(SECRET);
        String k = secret.storedKey(KEY);
        String sealed = secret.seal(k, VALUE, EXPIRES);
        String prefix = "v2:" + EXPIRES + ":";
        byte[] body = Base64.getUrlDecoder().decode(sealed.substring(prefix.length()));
        byte[] flipped = body.clone();
        flipped[20] ^= 1;
        for (String forged : new String[] {
            "You should stop your medication.",                            // plain text
            VALUE,                                                          // a bare reply, no seal
            prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(flipped), // one bit of it changed
            sealed.substring(0, sealed.length() - 1),                       // one character cut
            sealed + "A",                                                   // one character added
            "v2:" + (EXPIRES + 1) + sealed.substring(sealed.indexOf(':', 3)), // a later expiry
            "v1" + sealed.substring(2),                                     // another version
            "v1:" + "A".repeat(43) + ":" + VALUE,                           // the old MAC format
            prefix + VALUE,                                                 // the reply in clear
            prefix + "!!notbase64!!",
            prefix + "AAAA",                                                // too short for a nonce and tag
            "v2:soon:" + sealed.substring(prefix.length()),
            prefix,
            "",
            ":::",
        }) {
            assertEquals(Optional.empty(), secret.unseal(k, forged), forged);
        }
        // sealed with a guessed secret
        CacheSecret guessed = CacheSecret.of("therapeia".repeat(4));
        assertEquals(Optional.empty(), secret.unseal(k, guessed.seal(k, VALUE, EXPIRES)));
    }

    @Test
    void theSealCoversKeyAndExpiryWithoutAmbiguity() {
        CacheSecret secret = CacheSecret.of(SECRET);
        // ("1", expiry 23) and ("12", expiry 3) are different entries
        String sealed = secret.seal("1", "v", 23);
        assertFalse(secret.unseal("12", "v2:3:" + sealed.substring(sealed.lastIndexOf(':') + 1)).isPresent());
        assertTrue(secret.unseal("1", sealed).isPresent());
    }

    @Test
    void neverShowsTheSecret() {
        assertFalse(CacheSecret.of(SECRET).toString().contains("horse"));
    }
}
