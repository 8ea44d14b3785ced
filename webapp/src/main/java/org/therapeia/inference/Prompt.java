package org.therapeia.inference;

/**
 * A prompt ready for the engine. It keeps token ids only, never the text.
 *
 * @param ids             token ids of the rendered chat template
 * @param historyMessages history messages that made it into the prompt
 */
public record Prompt(int[] ids, int historyMessages) {
}
