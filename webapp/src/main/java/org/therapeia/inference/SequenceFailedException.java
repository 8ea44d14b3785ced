package org.therapeia.inference;

/**
 * The engine ended this request's sequence alone, for a cause of its own (its logits were not
 * finite, sampling failed, its prefill failed); every other request in the same engine step went
 * on. The message is the engine's: it names the cause, never what the user or the model wrote.
 */
public class SequenceFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SequenceFailedException(String cause) {
        super("the generation of this request failed and was ended alone: " + cause);
    }
}
