package org.therapeia.safety;

/**
 * A message's text that refuses to be read past a deadline in CPU time ({@link ThreadCpuClock}):
 * the regular expressions of the rule files read through it, so that no input, however crafted,
 * holds a request thread longer than the detector's time limit (the caller then fails safe).
 */
final class DeadlineText implements CharSequence {

    /** Thrown when a detection runs past its deadline. */
    static final class Expired extends RuntimeException {
        Expired() {
            super("crisis-signal detection ran over its time limit", null, false, false);
        }
    }

    private final String text;
    private final long deadlineNanos;
    private int reads;

    /** @param deadlineNanos a {@link ThreadCpuClock#now()} value of the thread that reads */
    DeadlineText(String text, long deadlineNanos) {
        this.text = text;
        this.deadlineNanos = deadlineNanos;
    }

    @Override
    public char charAt(int index) {
        if ((++reads & 0xFFF) == 0 && ThreadCpuClock.now() - deadlineNanos > 0) {
            throw new Expired();
        }
        return text.charAt(index);
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return new DeadlineText(text.substring(start, end), deadlineNanos);
    }

    @Override
    public String toString() {
        return text;
    }
}
