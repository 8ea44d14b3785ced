package org.therapeia.safety;

import java.time.LocalDate;

/**
 * One entry of a locale's crisis resource table: an emergency number or a crisis line.
 *
 * @param phone      null when it takes no calls
 * @param sms        null when it takes no texts
 * @param url        a chat or information page, or null
 * @param hours      {@code 24/7} or the opening hours
 * @param audience   who it is for ({@code all}, {@code youth}, ...)
 * @param emergency  an emergency number (911, 999, 112) rather than a crisis line
 * @param verifiedAt when the entry was last checked against the provider's own page
 */
public record CrisisResource(String name, String phone, String sms, String url, String hours, String audience,
                             boolean emergency, LocalDate verifiedAt) {

    /** Open around the clock. */
    public boolean alwaysOpen() {
        return "24/7".equals(hours);
    }
}
