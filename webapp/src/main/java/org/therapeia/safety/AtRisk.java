package org.therapeia.safety;

import java.util.Locale;

/** Who a signal says is at risk: the person writing, or someone they write about. */
public enum AtRisk {
    SELF,
    THIRD_PERSON;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
