package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every documented answer of Llama Guard 3 and Qwen3Guard-Gen, and what is not one. */
class GuardFormatTest {

    private static final LlamaGuardFormat LLAMA = new LlamaGuardFormat();
    private static final Qwen3GuardFormat QWEN = new Qwen3GuardFormat();

    private static GuardVerdict llama(String output) {
        return LLAMA.parse(output).orElseThrow(() -> new AssertionError("unreadable: " + output));
    }

    private static GuardVerdict qwen(String output) {
        return QWEN.parse(output).orElseThrow(() -> new AssertionError("unreadable: " + output));
    }

    @Test
    void llamaGuardSafe() {
        assertEquals(GuardVerdict.SAFE, llama("safe"));
        // the 8B template ends at the assistant header: the answer starts with a blank line
        assertEquals(GuardVerdict.SAFE, llama("\n\nsafe"));
        assertEquals(GuardVerdict.SAFE, llama(" Safe \n"));
    }

    @Test
    void llamaGuardSelfHarmIsRiskAsSuicide() {
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE)), llama("unsafe\nS11"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE)), llama("\n\nunsafe\nS11\n"));
    }

    @Test
    void llamaGuardViolenceWeaponsSexCrimesAndChildExploitation() {
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.HARM_TO_OTHERS)), llama("unsafe\nS1"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.HARM_TO_OTHERS)), llama("unsafe\nS9"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.ABUSE)), llama("unsafe\nS3"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.ABUSE)), llama("unsafe\nS4"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE, Category.HARM_TO_OTHERS)),
                llama("unsafe\nS1,S11"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE, Category.HARM_TO_OTHERS)),
                llama("unsafe\nS11, S2, S1"));
    }

    @Test
    void llamaGuardModerationOnlyCodesAreNoCrisis() {
        for (int code : new int[] {2, 5, 6, 7, 8, 10, 12, 13, 14}) {
            assertEquals(GuardVerdict.SAFE, llama("unsafe\nS" + code), "S" + code);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " \n\n ", "unsafe", "\n\nunsafe\n", "unsafe\nS", "unsafe\nS15", "unsafe\nS0",
        "unsafe\nS1;S11", "unsafe\nself-harm", "unsafe\n,", "sa", "unsa", "I cannot help with that.",
        "Safety: Unsafe\nCategories: Violent", "safe-ish", "SAFE."})
    void llamaGuardGarbageEmptyAndTruncatedAreUnreadable(String output) {
        assertEquals(Optional.empty(), LLAMA.parse(output));
    }

    @Test
    void qwen3GuardSafe() {
        assertEquals(GuardVerdict.SAFE, qwen("Safety: Safe\nCategories: None"));
        assertEquals(GuardVerdict.SAFE, qwen("Safety: Safe"));
        // response moderation adds a refusal line
        assertEquals(GuardVerdict.SAFE, qwen("Safety: Safe\nCategories: None\nRefusal: Yes"));
        // a think block the template did not close itself
        assertEquals(GuardVerdict.SAFE, qwen("<think>\n\n</think>\n\nSafety: Safe\nCategories: None"));
    }

    @Test
    void qwen3GuardUnsafeSelfHarmAndViolence() {
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE)),
                qwen("Safety: Unsafe\nCategories: Suicide & Self-Harm"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.HARM_TO_OTHERS)),
                qwen("Safety: Unsafe\nCategories: Violent"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE, Category.HARM_TO_OTHERS)),
                qwen("Safety: Unsafe\nCategories: Violent, Suicide & Self-Harm\nRefusal: No"));
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE)),
                qwen("safety: unsafe\ncategories: suicide & self-harm."));
    }

    @Test
    void qwen3GuardControversialSelfHarmIsRiskControversialViolenceIsDistress() {
        assertEquals(new GuardVerdict(Level.RISK, List.of(Category.SUICIDE)),
                qwen("Safety: Controversial\nCategories: Suicide & Self-Harm"));
        assertEquals(new GuardVerdict(Level.DISTRESS, List.of(Category.HARM_TO_OTHERS)),
                qwen("Safety: Controversial\nCategories: Violent"));
    }

    @Test
    void qwen3GuardModerationOnlyCategoriesAreNoCrisis() {
        for (String c : List.of("Non-violent Illegal Acts", "Sexual Content or Sexual Acts", "PII", "Unethical Acts",
                "Politically Sensitive Topics", "Copyright Violation", "Jailbreak", "None")) {
            assertEquals(GuardVerdict.SAFE, qwen("Safety: Unsafe\nCategories: " + c), c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n \n", "Safety:", "Safety: Uns", "Safety: Unsafe", "Safety: Unsafe\n",
        "Safety: Unsafe\nCategories:", "Safety: Unsafe\nCategor", "Safety: Maybe\nCategories: Violent",
        "Categories: Violent\nSafety: Unsafe", "unsafe\nS11", "safe", "I'm sorry, I can't help.",
        "Safety: Controversial\nRefusal: No"})
    void qwen3GuardGarbageEmptyAndTruncatedAreUnreadable(String output) {
        assertEquals(Optional.empty(), QWEN.parse(output));
    }

    @Test
    void theFamilyComesFromTheArchitecture() {
        assertInstanceOf(LlamaGuardFormat.class, GuardFormat.forArchitecture("LlamaForCausalLM"));
        assertInstanceOf(Qwen3GuardFormat.class, GuardFormat.forArchitecture("Qwen3ForCausalLM"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GuardFormat.forArchitecture("MistralForCausalLM"));
        assertTrue(e.getMessage().contains("MistralForCausalLM"));
    }
}
