package org.therapeia.cache;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret behind the response cache's keys and entry MACs. Hazelcast open source has no
 * member authentication: whoever reaches the cluster port can read and write the cache. With
 * this secret they can still do neither usefully:
 * <ul>
 *   <li><b>Stored keys</b> are {@code hex(HMAC-SHA256(k1, CacheKey digest))}: nobody without
 *       the secret can compute the key of a request, so nobody can plant a reply for a request
 *       before it is asked, or tell which request an entry answers.</li>
 *   <li><b>Stored values</b> are sealed: {@code "v1:" + base64url(HMAC-SHA256(k2, stored key,
 *       value)) + ":" + value}. A value changed, made up, or copied from another key fails the
 *       check ({@link #unseal}, a constant-time comparison) and is never served.</li>
 * </ul>
 * k1 and k2 are derived from the secret (HMAC-SHA256 of the secret over a label each), so the
 * two uses never share a key. The secret is {@code cache.secret}, the same on every member of a
 * cluster; a node alone may use a random one of its own ({@link #random()}).
 */
public final class CacheSecret {

    private static final String ALGORITHM = "HmacSHA256";
    private static final String VERSION = "v1";
    private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder UNBASE64 = Base64.getUrlDecoder();

    private final SecretKeySpec keyKey;
    private final SecretKeySpec macKey;

    private CacheSecret(byte[] secret) {
        SecretKeySpec master = new SecretKeySpec(secret, ALGORITHM);
        keyKey = new SecretKeySpec(hmac(master, label("therapeia response cache: stored keys v1")), ALGORITHM);
        macKey = new SecretKeySpec(hmac(master, label("therapeia response cache: entry MACs v1")), ALGORITHM);
    }

    /** From configuration ({@code cache.secret}), its UTF-8 bytes. */
    public static CacheSecret of(String secret) {
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("the cache secret must not be empty");
        }
        return new CacheSecret(secret.getBytes(StandardCharsets.UTF_8));
    }

    /** 256 random bits, for one process alone: its entries are readable by no other process. */
    public static CacheSecret random() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return new CacheSecret(secret);
    }

    /** The key an entry is stored under: 64 hex digits. */
    public String storedKey(CacheKey key) {
        return HexFormat.of().formatHex(hmac(keyKey, key.digest()));
    }

    /** {@code value}, sealed with its MAC over the stored key and the value. */
    public String seal(String storedKey, String value) {
        return VERSION + ":" + BASE64.encodeToString(mac(storedKey, value)) + ":" + value;
    }

    /**
     * The value of a sealed entry found under {@code storedKey}, or empty when the entry is not
     * one this secret sealed for that key (malformed, forged, altered or moved).
     */
    public Optional<String> unseal(String storedKey, String sealed) {
        int first = sealed.indexOf(':');
        int second = first < 0 ? -1 : sealed.indexOf(':', first + 1);
        if (second < 0 || !VERSION.equals(sealed.substring(0, first))) {
            return Optional.empty();
        }
        byte[] claimed;
        try {
            claimed = UNBASE64.decode(sealed.substring(first + 1, second));
        } catch (IllegalArgumentException notBase64) {
            return Optional.empty();
        }
        String value = sealed.substring(second + 1);
        // MessageDigest.isEqual takes the same time wherever the first difference is
        return MessageDigest.isEqual(claimed, mac(storedKey, value)) ? Optional.of(value) : Optional.empty();
    }

    private byte[] mac(String storedKey, String value) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(macKey);
            update(mac, VERSION);
            update(mac, storedKey);
            update(mac, value);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
        }
    }

    /** Length-prefixed, so that no two different (key, value) pairs feed the MAC the same bytes. */
    private static void update(Mac mac, String field) {
        byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
        mac.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) ':');
        mac.update(bytes);
    }

    private static byte[] hmac(SecretKeySpec key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
        }
    }

    private static byte[] label(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** Never the secret. */
    @Override
    public String toString() {
        return "CacheSecret[...]";
    }
}
