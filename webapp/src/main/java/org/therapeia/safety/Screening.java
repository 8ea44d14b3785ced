package org.therapeia.safety;

/**
 * The safety layer's view of one request, made before the cache and the model: its assessment,
 * the crisis resources of its locale and whether it opens a conversation. No text.
 *
 * @param eventId      names the audit record and the webhook event of this request
 * @param firstReply   the request has no history: the AI disclosure goes with its reply
 * @param detector     what graded it, for the audit record: {@code rules}, or {@code rules+<guard family>}
 *                     when a guard model's verdict was part of the decision
 */
public record Screening(String eventId, Assessment assessment, LocaleResources resources, boolean firstReply,
                        String detector) {

    /** Level 2 or more: no cache, resources, the addendum and the output check. */
    public boolean atRisk() {
        return assessment.isRisk();
    }
}
