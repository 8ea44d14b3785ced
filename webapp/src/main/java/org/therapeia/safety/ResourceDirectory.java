package org.therapeia.safety;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The crisis resource tables, one per enabled locale, read from
 * {@code safety/resources/<LOCALE>.json} (configuration, not code), and the choice of a table for
 * a request: the request's own locale ({@code en-GB}: GB), else the deployment default; a
 * country without a table gets the fallback table (EU's 112).
 */
public final class ResourceDirectory {

    private static final Pattern TAG = Pattern.compile("[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*");

    private final Map<String, LocaleResources> tables;
    private final String defaultLocale;
    private final String fallbackLocale;

    public ResourceDirectory(List<String> locales, String defaultLocale, String fallbackLocale) {
        Map<String, LocaleResources> loaded = new LinkedHashMap<>();
        for (String locale : locales) {
            loaded.put(locale, load(locale));
        }
        this.tables = Map.copyOf(loaded);
        this.defaultLocale = defaultLocale;
        this.fallbackLocale = fallbackLocale;
    }

    /** The table for a request's locale (a BCP 47 tag such as {@code en-US}), or the default's for null. */
    public LocaleResources resolve(String languageTag) {
        if (languageTag == null || !TAG.matcher(languageTag).matches()) {
            return tables.get(defaultLocale);
        }
        Locale locale = Locale.forLanguageTag(languageTag.replace('_', '-'));
        String country = locale.getCountry().toUpperCase(Locale.ROOT);
        if (country.isEmpty()) {
            return tables.get(defaultLocale);
        }
        LocaleResources table = tables.get(country);
        return table != null ? table : tables.get(fallbackLocale);
    }

    /**
     * What is wrong with the tables on {@code today}: a locale without an emergency number or a
     * 24/7 crisis line, or with an entry verified more than {@code maxAgeDays} ago. Each reason
     * names the locale and the entry, nothing else.
     */
    public List<String> problems(LocalDate today, int maxAgeDays) {
        List<String> problems = new ArrayList<>();
        for (LocaleResources t : tables.values().stream().sorted((a, b) -> a.locale().compareTo(b.locale())).toList()) {
            if (t.emergency().isEmpty()) {
                problems.add(t.locale() + ": no emergency number");
            }
            if (t.lines().stream().noneMatch(CrisisResource::alwaysOpen)) {
                problems.add(t.locale() + ": no 24/7 crisis line");
            }
            for (CrisisResource e : t.entries()) {
                if (e.verifiedAt().plusDays(maxAgeDays).isBefore(today)) {
                    problems.add(t.locale() + ": '" + e.name() + "' last verified " + e.verifiedAt() + ", more than "
                            + maxAgeDays + " days ago");
                }
            }
        }
        return problems;
    }

    private static LocaleResources load(String locale) {
        String resource = "safety/resources/" + locale + ".json";
        try (InputStream in = ResourceDirectory.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no crisis resource table " + resource
                        + " for safety.resources.locales");
            }
            try (JsonReader reader = Json.createReader(in)) {
                JsonObject json = reader.readObject();
                List<CrisisResource> entries = new ArrayList<>();
                for (JsonValue v : json.getJsonArray("entries")) {
                    JsonObject e = v.asJsonObject();
                    entries.add(new CrisisResource(e.getString("name"), e.getString("phone", null),
                            e.getString("sms", null), e.getString("url", null), e.getString("hours", ""),
                            e.getString("audience", "all"), e.getBoolean("emergency", false),
                            date(e.getString("verified_at"), resource)));
                }
                return new LocaleResources(locale, json.getString("country"), json.getString("language"), entries);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static LocalDate date(String value, String resource) {
        try {
            return LocalDate.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(resource + ": verified_at must be a date (YYYY-MM-DD)", e);
        }
    }
}
