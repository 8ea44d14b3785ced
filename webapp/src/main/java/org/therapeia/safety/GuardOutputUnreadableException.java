package org.therapeia.safety;

/**
 * A guard model answered with something that is not one of its documented verdicts (random
 * weights, a wrong folder, an answer cut short). Its message never quotes the answer: it may echo
 * what the person wrote.
 */
public class GuardOutputUnreadableException extends RuntimeException {

    public GuardOutputUnreadableException() {
        super("the guard model's answer is not one of its documented verdicts");
    }
}
