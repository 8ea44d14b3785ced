package org.therapeia.safety;

/**
 * How much risk a message shows, anchored on the Columbia suicide-severity screener (the other
 * categories are graded analogously).
 */
public enum Level {
    /** No signal. */
    NONE("none"),
    /** Hopelessness or overwhelm; self-harm or abuse described as past and resolved; a negated statement. */
    DISTRESS("distress"),
    /** Wish to be dead, non-specific or indirect ideation, current self-harm, abuse, harm to others, concern for someone else. */
    RISK("risk"),
    /** Method, intent, plan, preparation, method-seeking. */
    HIGH("high"),
    /** An attempt in progress or just made, means in hand now, a medical emergency. */
    IMMINENT("imminent");

    private final String label;

    Level(String label) {
        this.label = label;
    }

    /** 0 to 4. */
    public int value() {
        return ordinal();
    }

    /** none, distress, risk, high or imminent. */
    public String label() {
        return label;
    }

    public boolean atLeast(Level other) {
        return compareTo(other) >= 0;
    }

    public static Level of(int value) {
        Level[] all = values();
        return all[Math.max(0, Math.min(all.length - 1, value))];
    }

    public static Level max(Level a, Level b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    public static Level min(Level a, Level b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
