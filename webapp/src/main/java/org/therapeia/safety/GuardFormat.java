package org.therapeia.safety;

import java.util.Optional;

/**
 * A guard model family's output: how many tokens its verdict needs and how to read it. The prompt
 * side needs no code here: each family ships its prompt format as the chat template of its model
 * folder, which {@link GuardPrompt} renders.
 */
public sealed interface GuardFormat permits LlamaGuardFormat, Qwen3GuardFormat {

    /** Names the family in the audit record's detector field: {@code llama-guard-3}, {@code qwen3guard}. */
    String id();

    /** Tokens generated for a verdict: the longest documented answer fits, a rambling one is cut. */
    int maxNewTokens();

    /** The verdict in {@code output} (the decoded generation), or empty when it is not a documented answer. */
    Optional<GuardVerdict> parse(String output);

    /**
     * The format of a model folder's architecture (the first of {@code architectures} in its
     * {@code config.json}): Llama Guard 3 is a Llama, Qwen3Guard-Gen a Qwen3.
     *
     * @throws IllegalArgumentException for any other architecture
     */
    static GuardFormat forArchitecture(String architecture) {
        return switch (architecture) {
            case "LlamaForCausalLM" -> new LlamaGuardFormat();
            case "Qwen3ForCausalLM" -> new Qwen3GuardFormat();
            default -> throw new IllegalArgumentException("a guard model must be Llama Guard 3 (LlamaForCausalLM) or "
                    + "Qwen3Guard-Gen (Qwen3ForCausalLM); this folder's architecture is " + architecture);
        };
    }
}
