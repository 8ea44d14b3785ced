package org.therapeia.safety;

import java.util.Locale;

/** What kind of risk a signal is about. */
public enum Category {
    SUICIDE,
    SELF_HARM,
    HARM_TO_OTHERS,
    ABUSE,
    MEDICAL_EMERGENCY,
    /** Hopelessness, overwhelm, burdensomeness: level 1 signals that belong to no other category. */
    DISTRESS;

    /** The name in rule files, metrics and replies: {@code self_harm}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Category of(String id) {
        return valueOf(id.strip().toUpperCase(Locale.ROOT));
    }
}
