package org.therapeia.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.therapeia.api.ChatMessage;
import org.therapeia.engine.SamplingParams;

class CacheKeyTest {

    private static final SamplingParams P = new SamplingParams(256, 0.7, 50, 0.9, 1.1, 7);
    private static final String MODEL = "a".repeat(64);

    private static CacheKey key(String system, List<ChatMessage> history, String input, SamplingParams p) {
        return CacheKey.of(MODEL, system, history, input, p);
    }

    @Test
    void textIsKeyedExactlyAsTheModelReadsIt() {
        // each of these is other tokens to the model, and another reply (measured on the default
        // model): one entry for them would let a client choose, among spellings, the reply others get
        CacheKey plain = key("Be kind.", List.of(), "I feel sad today", P);
        assertNotEquals(plain, key("Be kind.", List.of(), "\uFF29 \uFF46\uFF45\uFF45\uFF4C \uFF53\uFF41\uFF44 today", P),
                "fullwidth letters");
        assertNotEquals(plain, key("Be kind.", List.of(), "I\n\n\tfeel   sad\u3000today  ", P), "other whitespace");
        assertNotEquals(plain, key(" Be  kind. ", List.of(), "I feel sad today", P), "system prompt spacing");
        assertNotEquals(key("s", List.of(new ChatMessage("user", "a  b")), "x", P),
                key("s", List.of(new ChatMessage("user", "a b")), "x", P), "history spacing");
        assertNotEquals(key("s", List.of(), "\uFB01ne", P), key("s", List.of(), "fine", P), "a ligature");
    }

    @Test
    void noSystemPromptIsOneKeyWhetherNullOrEmpty() {
        // PromptBuilder reads both as none
        assertEquals(key(null, List.of(), "x", P), key("", List.of(), "x", P));
    }

    @Test
    void everythingThatChangesTheReplyChangesTheKey() {
        CacheKey base = key("s", List.of(new ChatMessage("user", "a")), "x", P);
        assertNotEquals(base, CacheKey.of("b".repeat(64), "s", List.of(new ChatMessage("user", "a")), "x", P),
                "another model fingerprint");
        assertNotEquals(base, key("t", List.of(new ChatMessage("user", "a")), "x", P));
        assertNotEquals(base, key("s", List.of(new ChatMessage("assistant", "a")), "x", P));
        assertNotEquals(base, key("s", List.of(), "x", P));
        assertNotEquals(base, key("s", List.of(new ChatMessage("user", "a")), "y", P));
        assertNotEquals(base, key("s", List.of(new ChatMessage("user", "a")), "x",
                new SamplingParams(128, 0.7, 50, 0.9, 1.1, 7)));
        assertNotEquals(base, key("s", List.of(new ChatMessage("user", "a")), "x",
                new SamplingParams(256, 0.7, 50, 0.9, 1.1, 8)));
        assertNotEquals(base, key("s", List.of(new ChatMessage("user", "a")), "x",
                new SamplingParams(256, 0.8, 50, 0.9, 1.1, 7)));
    }

    @Test
    void fieldBoundariesMatter() {
        assertNotEquals(key("ab", List.of(), "c", P), key("a", List.of(), "bc", P));
    }

    @Test
    void greedyIgnoresTheSeed() {
        assertEquals(key("s", List.of(), "x", SamplingParams.greedy(16)),
                key("s", List.of(), "x", new SamplingParams(16, 0.0, 0, 1.0, 1.0, 99)));
    }

    @Test
    void anUnseededSampledKeyIsNoChosenSeedsKey() {
        CacheKey unseeded = CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), false, null);
        assertEquals(unseeded, CacheKey.of(MODEL, "s", List.of(), "x", P.withSeed(-1), List.of(), false, null),
                "unseeded sampled replies share one entry whatever their random seed");
        for (long seed : new long[] {-1L, 0L, 7L, Long.MIN_VALUE, Long.MAX_VALUE}) {
            assertNotEquals(unseeded, CacheKey.of(MODEL, "s", List.of(), "x", P.withSeed(seed), List.of(), true, null),
                    "seed " + seed);
        }
        SamplingParams greedy = SamplingParams.greedy(16);
        assertEquals(CacheKey.of(MODEL, "s", List.of(), "x", greedy, List.of(), false, null),
                CacheKey.of(MODEL, "s", List.of(), "x", greedy, List.of(), true, null), "greedy decoding has no seed");
    }

    @Test
    void aScopedEntryIsSharedUnderItsOwnScopeOnly() {
        CacheKey everyone = CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), true, null);
        CacheKey alice = CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), true, "alice");
        assertEquals(alice, CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), true, "alice"));
        assertNotEquals(alice, CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), true, "bob"));
        assertNotEquals(everyone, alice);
        assertNotEquals(everyone, CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), true, "-"),
                "no salt's value is the unscoped field");
        assertNotEquals(everyone, CacheKey.of(MODEL, "s", List.of(), "x", P, List.of(), true, ""));
    }

    @Test
    void neverShowsItsDigest() {
        CacheKey k = key("s", List.of(), "x", P);
        assertFalse(k.toString().matches(".*[0-9a-f]{16}.*"), k::toString);
    }
}
