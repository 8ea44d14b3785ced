package org.therapeia.safety;

import java.util.List;
import java.util.Optional;

/** The crisis resource table of one locale ({@code US}, {@code GB}, {@code EU}...). */
public record LocaleResources(String locale, String country, String language, List<CrisisResource> entries) {

    public LocaleResources {
        entries = List.copyOf(entries);
    }

    public Optional<CrisisResource> emergency() {
        return entries.stream().filter(CrisisResource::emergency).findFirst();
    }

    /** The crisis lines, in the table's order. */
    public List<CrisisResource> lines() {
        return entries.stream().filter(e -> !e.emergency()).toList();
    }
}
