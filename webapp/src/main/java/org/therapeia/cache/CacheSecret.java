package org.therapeia.cache;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret behind the response cache's keys and entries. Hazelcast open source has no member
 * authentication: whoever reaches the cluster port (a clustered node's, and also a standalone
 * node's: Payara Micro's {@code --nocluster} still listens on all interfaces, cluster name
 * {@code development}) can read and write the cache. With this secret they can still do
 * neither usefully:
 * <ul>
 *   <li><b>Stored keys</b> are {@code hex(HMAC-SHA256(k1, CacheKey digest))}: nobody without
 *       the secret can compute the key of a request, so nobody can plant a reply for a request
 *       before it is asked, or tell which request an entry answers.</li>
 *   <li><b>Stored values</b> are encrypted and authenticated: {@code "v2:" + expiry + ":" +
 *       base64url(nonce, AES-256-GCM(k2, nonce, value))}, the stored key, the version and the
 *       expiry (epoch milliseconds) bound in as associated data. Nobody without the secret reads
 *       a reply off the grid; a value changed, made up, copied from another key or given a later
 *       expiry fails the check ({@link #unseal}) and is never served. The expiry bounds a replay
 *       of a genuine value, copied off the grid, to the time it was meant to live.</li>
 * </ul>
 * k1 and k2 are derived from the secret (HMAC-SHA256 of the secret over a label each), so the
 * two uses never share a key. The secret is {@code cache.secret}, the same on every member of a
 * cluster; a node alone may use a random one of its own ({@link #random()}).
 */
public final class CacheSecret {

    /** What a sealed value holds: the value and when it stops being served (epoch milliseconds). */
    public record Opened(String value, long expiresAtMillis) {
    }

    private static final String HMAC = "HmacSHA256";
    private static final String CIPHER = "AES/GCM/NoPadding";
    private static final String VERSION = "v2";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder UNBASE64 = Base64.getUrlDecoder();

    private final SecretKeySpec keyKey;
    private final SecretKeySpec valueKey;
    private final SecureRandom nonces = new SecureRandom();

    private CacheSecret(byte[] secret) {
        SecretKeySpec master = new SecretKeySpec(secret, HMAC);
        keyKey = new SecretKeySpec(hmac(master, label("therapeia response cache: stored keys v1")), HMAC);
        // 32 bytes: AES-256
        valueKey = new SecretKeySpec(hmac(master, label("therapeia response cache: entry encryption v2")), "AES");
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

    /** {@code value}, encrypted and authenticated for {@code storedKey}, to be served until {@code expiresAtMillis}. */
    public String seal(String storedKey, String value, long expiresAtMillis) {
        byte[] nonce = new byte[NONCE_BYTES];
        nonces.nextBytes(nonce);
        byte[] encrypted = crypt(Cipher.ENCRYPT_MODE, nonce, storedKey, expiresAtMillis,
                value.getBytes(StandardCharsets.UTF_8));
        byte[] sealed = new byte[NONCE_BYTES + encrypted.length];
        System.arraycopy(nonce, 0, sealed, 0, NONCE_BYTES);
        System.arraycopy(encrypted, 0, sealed, NONCE_BYTES, encrypted.length);
        return VERSION + ":" + expiresAtMillis + ":" + BASE64.encodeToString(sealed);
    }

    /**
     * What a sealed entry found under {@code storedKey} holds, or empty when the entry is not one
     * this secret sealed for that key (malformed, forged, altered or moved). Whether it has
     * expired is the caller's to check.
     */
    public Optional<Opened> unseal(String storedKey, String sealed) {
        int first = sealed.indexOf(':');
        int second = first < 0 ? -1 : sealed.indexOf(':', first + 1);
        if (second < 0 || !VERSION.equals(sealed.substring(0, first))) {
            return Optional.empty();
        }
        long expiresAt;
        byte[] bytes;
        try {
            expiresAt = Long.parseLong(sealed.substring(first + 1, second));
            bytes = UNBASE64.decode(sealed.substring(second + 1));
        } catch (IllegalArgumentException malformed) { // NumberFormatException is one
            return Optional.empty();
        }
        if (bytes.length < NONCE_BYTES + TAG_BITS / 8) {
            return Optional.empty();
        }
        byte[] nonce = Arrays.copyOf(bytes, NONCE_BYTES);
        byte[] encrypted = Arrays.copyOfRange(bytes, NONCE_BYTES, bytes.length);
        byte[] value = crypt(Cipher.DECRYPT_MODE, nonce, storedKey, expiresAt, encrypted);
        return value == null ? Optional.empty()
                : Optional.of(new Opened(new String(value, StandardCharsets.UTF_8), expiresAt));
    }

    /** AES-256-GCM over {@code input}; null when decrypting finds the tag wrong. */
    private byte[] crypt(int mode, byte[] nonce, String storedKey, long expiresAtMillis, byte[] input) {
        try {
            Cipher cipher = Cipher.getInstance(CIPHER);
            cipher.init(mode, valueKey, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(associatedData(storedKey, expiresAtMillis));
            return cipher.doFinal(input);
        } catch (AEADBadTagException forged) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(CIPHER + " is required of every Java platform", e);
        }
    }

    /** Length-prefixed, so that no two different (key, expiry) pairs give the same bytes. */
    private static byte[] associatedData(String storedKey, long expiresAtMillis) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String field : new String[] {VERSION, storedKey, Long.toString(expiresAtMillis)}) {
            byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
            out.write(':');
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    private static byte[] hmac(SecretKeySpec key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(HMAC);
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
