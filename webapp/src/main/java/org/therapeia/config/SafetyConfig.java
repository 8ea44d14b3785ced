package org.therapeia.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;

/**
 * The settings of the crisis-signal layer ({@code safety.*}), read once from MicroProfile Config
 * with their defaults in {@code META-INF/microprofile-config.properties}. Kept apart from
 * {@link InferenceConfig} because they are one capability with its own README section.
 */
@ApplicationScoped
public class SafetyConfig {

    private List<String> ruleLanguages;
    private int historyTurns;
    private int decayTurns;
    private Duration detectorTimeout;
    private String addendum;
    private String fallback;
    private Optional<String> disclosure;
    private List<String> resourceLocales;
    private String defaultLocale;
    private String fallbackLocale;
    private int resourcesMaxAgeDays;
    private Optional<URI> webhookUrl;
    private Duration webhookTimeout;
    private int webhookRetries;
    private Optional<String> webhookToken;
    private Optional<Path> guardModelPath;
    private String guardDevice;
    private String guardDtype;
    private int guardThreads;
    private Duration guardTimeout;
    private int guardBatchSize;
    private int guardMaxContextLength;

    /** For the CDI proxy only. */
    protected SafetyConfig() {
    }

    @Inject
    public SafetyConfig(Config config) {
        ruleLanguages = list(config, "safety.rules.languages");
        historyTurns = integer(config, "safety.history.turns", 0);
        decayTurns = integer(config, "safety.history.decay-turns", 1);
        detectorTimeout = Duration.ofMillis(integer(config, "safety.detector.timeout-ms", 1));
        addendum = config.getOptionalValue("safety.addendum", String.class).orElse("").strip();
        fallback = required(config, "safety.fallback");
        disclosure = config.getOptionalValue("safety.disclosure.text", String.class).map(String::strip)
                .filter(s -> !s.isEmpty());
        resourceLocales = list(config, "safety.resources.locales").stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
        defaultLocale = required(config, "safety.resources.default-locale").toUpperCase(Locale.ROOT);
        fallbackLocale = required(config, "safety.resources.fallback-locale").toUpperCase(Locale.ROOT);
        for (String locale : List.of(defaultLocale, fallbackLocale)) {
            if (!resourceLocales.contains(locale)) {
                throw new IllegalArgumentException("configuration property safety.resources.default-locale and "
                        + "safety.resources.fallback-locale must be among safety.resources.locales");
            }
        }
        resourcesMaxAgeDays = integer(config, "safety.resources.max-age-days", 1);
        webhookUrl = config.getOptionalValue("safety.webhook.url", String.class).map(String::strip)
                .filter(s -> !s.isEmpty()).map(SafetyConfig::webhookUri);
        webhookTimeout = Duration.ofMillis(integer(config, "safety.webhook.timeout-ms", 1));
        webhookRetries = integer(config, "safety.webhook.retries", 0);
        webhookToken = config.getOptionalValue("safety.webhook.token", String.class).map(String::strip)
                .filter(s -> !s.isEmpty());
        guardModelPath = config.getOptionalValue("safety.guard.model-path", String.class).map(String::strip)
                .filter(s -> !s.isEmpty()).map(Path::of);
        // the guard runs beside the main model unless told otherwise: same device, dtype and CPU budget
        guardDevice = config.getOptionalValue("safety.guard.device", String.class).map(String::strip)
                .filter(s -> !s.isEmpty()).orElseGet(() -> required(config, "device"));
        guardDtype = config.getOptionalValue("safety.guard.dtype", String.class).map(String::strip)
                .filter(s -> !s.isEmpty()).orElseGet(() -> required(config, "dtype"));
        guardThreads = integer(config, "engine.threads", 0);
        guardTimeout = Duration.ofMillis(integer(config, "safety.guard.timeout-ms", 1));
        guardBatchSize = integer(config, "safety.guard.batch-size", 1);
        guardMaxContextLength = integer(config, "safety.guard.max-context-length", 256);
    }

    private static URI webhookUri(String value) {
        URI uri;
        try {
            uri = URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("configuration property safety.webhook.url is not a URL");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalArgumentException("configuration property safety.webhook.url must be an http(s) URL");
        }
        return uri;
    }

    private static String required(Config config, String name) {
        String value = config.getValue(name, String.class).strip();
        if (value.isEmpty()) {
            throw new IllegalArgumentException("configuration property " + name + " must not be empty");
        }
        return value;
    }

    private static List<String> list(Config config, String name) {
        List<String> values = Arrays.stream(required(config, name).split(",")).map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
        if (values.isEmpty()) {
            throw new IllegalArgumentException("configuration property " + name + " must name at least one");
        }
        return values;
    }

    private static int integer(Config config, String name, int min) {
        int value = config.getValue(name, Integer.class);
        if (value < min) {
            throw new IllegalArgumentException("configuration property " + name + " is " + value
                    + "; it must be at least " + min);
        }
        return value;
    }

    /** Rule files read by the built-in detector: {@code safety/rules-<language>.json} each. */
    public List<String> ruleLanguages() {
        return ruleLanguages;
    }

    /** Earlier user messages of a request read to grade it. */
    public int historyTurns() {
        return historyTurns;
    }

    /** Turns after which an earlier message's level drops by one. */
    public int decayTurns() {
        return decayTurns;
    }

    /** Longest a detection may take; past it the request is treated as at risk (fail safe). */
    public Duration detectorTimeout() {
        return detectorTimeout;
    }

    /** Safe-messaging instructions appended to the system prompt at level 2 or more (empty: none). */
    public String addendum() {
        return addendum;
    }

    /** What replaces a reply that gives method, dose or lethality details. */
    public String fallback() {
        return fallback;
    }

    /** The AI disclosure shown on a conversation's first reply, if any. */
    public Optional<String> disclosure() {
        return disclosure;
    }

    /** Resource tables loaded: {@code safety/resources/<LOCALE>.json} each (US, CA, GB, IE, EU...). */
    public List<String> resourceLocales() {
        return resourceLocales;
    }

    /** The table used when a request names no locale. */
    public String defaultLocale() {
        return defaultLocale;
    }

    /** The table used when a request names a locale without its own table. */
    public String fallbackLocale() {
        return fallbackLocale;
    }

    /** Entries verified longer ago than this make the resources health check DOWN. */
    public int resourcesMaxAgeDays() {
        return resourcesMaxAgeDays;
    }

    /** Where level 3 and 4 events are posted, if anywhere. */
    public Optional<URI> webhookUrl() {
        return webhookUrl;
    }

    public Duration webhookTimeout() {
        return webhookTimeout;
    }

    /** Further attempts after a failed delivery. */
    public int webhookRetries() {
        return webhookRetries;
    }

    /** Sent as {@code Authorization: Bearer} to the webhook, if set. */
    public Optional<String> webhookToken() {
        return webhookToken;
    }

    /** The guard model's folder (Llama Guard 3 or Qwen3Guard-Gen), if one decides together with the rules. */
    public Optional<Path> guardModelPath() {
        return guardModelPath;
    }

    /** The guard's device: {@code safety.guard.device}, else the main model's {@code device}. */
    public String guardDevice() {
        return guardDevice;
    }

    /** The guard's dtype: {@code safety.guard.dtype}, else the main model's {@code dtype}. */
    public String guardDtype() {
        return guardDtype;
    }

    /** Intra-op threads of the guard's engine thread: the main model's {@code engine.threads}. */
    public int guardThreads() {
        return guardThreads;
    }

    /** Longest a request waits for the guard's verdict; past it the rules decide alone (counted). */
    public Duration guardTimeout() {
        return guardTimeout;
    }

    /** Conversations the guard judges together (its engine's KV cache slots). */
    public int guardBatchSize() {
        return guardBatchSize;
    }

    /** Tokens of the guard's prompt and verdict; older turns are left out of a longer conversation. */
    public int guardMaxContextLength() {
        return guardMaxContextLength;
    }
}
