package org.therapeia.benchmark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Picks the request inputs: the message by a Zipf law (the k-th message with weight 1/k^s, so a
 * few are common and most are rare, as in real traffic) and the conversation context uniformly.
 * With the 40 messages, 4 contexts and s = 1, about 45% of 100 requests repeat an earlier one:
 * the cache matters when it is on, as the seed's "30-50% typical" hit rate says.
 *
 * <p>Deterministic: {@link Random} is specified down to its algorithm, so the same seed gives the
 * same sequence on every JVM.
 */
public final class MessagePicker {

    /** The Zipf exponent. */
    public static final double DEFAULT_EXPONENT = 1.0;

    private final List<String> messages;
    private final List<List<ChatTurn>> contexts;
    private final double[] cumulative; // cumulative[k] = sum of weights 0..k, normalised to end at 1
    private final Random random;

    public MessagePicker(long seed) {
        this(TherapeuticMessages.MESSAGES, TherapeuticMessages.CONTEXTS, DEFAULT_EXPONENT, seed);
    }

    public MessagePicker(List<String> messages, List<List<ChatTurn>> contexts, double exponent, long seed) {
        if (messages.isEmpty() || contexts.isEmpty()) {
            throw new IllegalArgumentException("need at least one message and one context");
        }
        if (!(exponent >= 0) || Double.isInfinite(exponent)) {
            throw new IllegalArgumentException("the Zipf exponent must be 0 or more: " + exponent);
        }
        this.messages = List.copyOf(messages);
        this.contexts = List.copyOf(contexts);
        this.cumulative = new double[messages.size()];
        double sum = 0;
        for (int k = 0; k < cumulative.length; k++) {
            sum += 1.0 / Math.pow(k + 1, exponent);
            cumulative[k] = sum;
        }
        for (int k = 0; k < cumulative.length; k++) {
            cumulative[k] /= sum;
        }
        cumulative[cumulative.length - 1] = 1.0;
        this.random = new Random(seed);
    }

    /** The next request's input. */
    public RequestInput next() {
        int message = messageIndex(random.nextDouble());
        int context = random.nextInt(contexts.size());
        return new RequestInput(message, context, messages.get(message), contexts.get(context));
    }

    /** The next {@code n} inputs, in order. */
    public List<RequestInput> next(int n) {
        List<RequestInput> inputs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            inputs.add(next());
        }
        return inputs;
    }

    /** The probability of message {@code k}. */
    double probability(int k) {
        return k == 0 ? cumulative[0] : cumulative[k] - cumulative[k - 1];
    }

    private int messageIndex(double u) {
        int i = Arrays.binarySearch(cumulative, u);
        // exact hit: u equals the upper edge of message i, which belongs to the next one
        int index = i >= 0 ? i + 1 : -i - 1;
        return Math.min(index, cumulative.length - 1);
    }
}
