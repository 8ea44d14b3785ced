package org.therapeia.cache;

/**
 * A CDI event: an entry of the response cache failed its authentication check (a value that is
 * not one this service sealed for that key: forged, altered, moved from another key, not a
 * string at all, or nothing this member can deserialise). The lookup was a miss and the entry was
 * removed. Carries neither key nor value.
 */
public record CacheEntryRejected() {
}
