package org.therapeia.inference;

/**
 * A chat template refused the conversation ({@code raise_exception} in the template, e.g. "roles
 * must alternate") or could not be rendered. The message comes from the template or the
 * renderer, never from the messages.
 */
public class ChatTemplateException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final boolean raisedByTemplate;

    public ChatTemplateException(String message, boolean raisedByTemplate) {
        super(message);
        this.raisedByTemplate = raisedByTemplate;
    }

    /** True when the template itself refused the conversation: the caller's input is at fault. */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
