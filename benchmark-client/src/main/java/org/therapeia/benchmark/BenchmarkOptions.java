package org.therapeia.benchmark;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one benchmark run does, parsed from the command line. Options may come before or after
 * the mode word, as {@code --name value} or {@code --name=value}.
 *
 * @param url            the service's base URL (scheme, host, port; no path)
 * @param mode           sequential, concurrent or conversation
 * @param requests       requests to send (N; conversations x turns in a conversation run)
 * @param concurrency    requests in flight at once (1 for sequential; conversations at once in a
 *                       conversation run)
 * @param conversations  conversation run: how many conversations (0 otherwise)
 * @param turns          conversation run: turns per conversation (0 otherwise)
 * @param useCache       the requests' {@code use_cache} (default off in a conversation run, whose
 *                       conversations share first turns: a cached reply would hide the prefill)
 * @param maxNewTokens   the requests' {@code max_new_tokens}; null = the service's default
 * @param timeout        per request, from sending to the whole body
 * @param seed           seeds the message picker: the same seed sends the same requests in the same order
 * @param waitReady      how long to wait for {@code /health/ready} before starting; zero = do not check
 * @param clearCache     clear the response cache first (needs the admin token)
 * @param adminToken     the service's {@code admin.token}; null when not given
 * @param apiKey         the service's {@code api.key}, sent in {@code X-API-Key}; null when not given
 * @param stream         ask for a streamed reply and measure the time to the first piece
 * @param api            the service's API to speak: the seed's ({@code /api/v1/inference}) or OpenAI's
 *                       ({@code /v1/chat/completions})
 * @param model          the OpenAI API's {@code model}; null = the served model ({@code GET /v1/models})
 * @param jsonOut        where to write the JSON report; null = none
 */
public record BenchmarkOptions(URI url, Mode mode, int requests, int concurrency, int conversations, int turns,
        boolean useCache,
        Integer maxNewTokens, Duration timeout, long seed, Duration waitReady, boolean clearCache, String adminToken,
        String apiKey, boolean stream, Api api, String model, Path jsonOut) {

    public static final String DEFAULT_URL = "http://localhost:8080";
    public static final int DEFAULT_REQUESTS = 100;
    public static final int DEFAULT_CONCURRENCY = 10;
    /** The conversation run's defaults: those of bench/conversation_benchmark.py. */
    public static final int DEFAULT_CONVERSATIONS = 8;
    public static final int DEFAULT_TURNS = 10;
    public static final int DEFAULT_CONVERSATION_CONCURRENCY = 4;
    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_TIMEOUT_SECONDS = 60;
    public static final int DEFAULT_WAIT_READY_SECONDS = 60;
    /** Environment variable read for the admin token when --admin-token is not given. */
    public static final String ADMIN_TOKEN_ENV = "THERAPEIA_ADMIN_TOKEN";
    /** Environment variable read for the API key when --api-key is not given. */
    public static final String API_KEY_ENV = "THERAPEIA_API_KEY";

    public static final String USAGE = """
            usage: java -jar therapeia-benchmark.jar [options] sequential --requests N [--cache on|off]
                   java -jar therapeia-benchmark.jar [options] concurrent --requests N --concurrency C [--cache on|off]
                   java -jar therapeia-benchmark.jar [options] conversation --conversations N --turns T --concurrency C

            Sends N inference requests (a fixed set of 40 therapeutic-style messages in 4 conversation
            contexts, some repeated) to a running Therapeia service and prints latency percentiles,
            throughput, errors by HTTP status, cache hit rate and the overhead outside the engine
            (the last two only over the seed's API: OpenAI's reply does not report them).

            conversation: N conversations of T turns (default 8 x 10), C at a time (default 4), the
            workload of bench/conversation_benchmark.py: every turn resends the system prompt, the
            history and the model's previous replies, greedy (temperature 0), cache off unless
            --cache on. Reports per turn index the time to the first token and the latency (P50,
            P95) and the prompt tokens computed and reused (the prefix cache).
            Progress goes to stderr, the report to stdout.

            options:
              --url URL              service base URL (default http://localhost:8080)
              --requests N           requests to send (default 100)
              --concurrency C        concurrent: requests in flight (default 10);
                                     conversation: conversations at once (default 4)
              --conversations N      conversation: conversations (default 8)
              --turns T              conversation: turns per conversation (default 10)
              --cache on|off         the requests' use_cache (default on; conversation: off)
              --max-new-tokens N     the requests' max_new_tokens (default: the service's)
              --timeout SECONDS      per request (default 60)
              --seed S               sequential, concurrent: message order (default 42)
              --wait-ready SECONDS   wait for /health/ready first; 0 = skip (default 60)
              --clear-cache          POST /api/v1/cache/clear first (needs the admin token)
              --admin-token TOKEN    the service's admin.token (default: $THERAPEIA_ADMIN_TOKEN)
              --api-key KEY          the service's api.key, if it has one (default: $THERAPEIA_API_KEY)
              --stream               ask for streamed replies and report the time to the first piece
              --api seed|openai      the seed's API (/api/v1/inference, default) or the OpenAI-compatible
                                     one (/v1/chat/completions; --cache off sends each request a seed of
                                     its own, which keeps it out of the cache)
              --model NAME           with --api openai: the model requests name (default: GET /v1/models)
              --json FILE            also write the report as JSON
              --help                 this text
            """;

    /**
     * Parses {@code args}; {@code env} supplies {@value #ADMIN_TOKEN_ENV}.
     *
     * @return the options, or null when {@code --help} was asked for
     */
    public static BenchmarkOptions parse(String[] args, Map<String, String> env) throws UsageException {
        String url = DEFAULT_URL;
        Mode mode = null;
        Integer requests = null;
        Integer concurrency = null;
        Integer conversations = null;
        Integer turns = null;
        Boolean cache = null;
        Integer maxNewTokens = null;
        int timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
        long seed = DEFAULT_SEED;
        int waitReadySeconds = DEFAULT_WAIT_READY_SECONDS;
        boolean clearCache = false;
        boolean stream = false;
        Api api = Api.SEED;
        String model = null;
        String adminToken = null;
        String apiKey = null;
        Path jsonOut = null;

        List<String> words = new ArrayList<>(List.of(args));
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (word.equals("-h")) {
                return null;
            }
            if (!word.startsWith("--")) {
                Mode m = Mode.fromWord(word);
                if (m == null) {
                    throw new UsageException("unknown command '" + word
                            + "': expected sequential, concurrent or conversation");
                }
                if (mode != null) {
                    throw new UsageException("give one mode, not both " + mode.word() + " and " + m.word());
                }
                mode = m;
                continue;
            }
            String name = word;
            String inlineValue = null;
            int eq = word.indexOf('=');
            if (eq > 0) {
                name = word.substring(0, eq);
                inlineValue = word.substring(eq + 1);
            }
            switch (name) {
                case "--help" -> {
                    return null;
                }
                case "--clear-cache", "--stream" -> {
                    if (inlineValue != null) {
                        throw new UsageException(name + " takes no value");
                    }
                    if (name.equals("--stream")) {
                        stream = true;
                    } else {
                        clearCache = true;
                    }
                }
                default -> {
                    String value;
                    if (inlineValue != null) {
                        value = inlineValue;
                    } else if (i + 1 < words.size()) {
                        value = words.get(++i);
                    } else {
                        throw new UsageException(name + " needs a value");
                    }
                    switch (name) {
                        case "--url" -> url = value;
                        case "--requests" -> requests = positiveInt(name, value);
                        case "--concurrency" -> concurrency = positiveInt(name, value);
                        case "--conversations" -> conversations = positiveInt(name, value);
                        case "--turns" -> turns = positiveInt(name, value);
                        case "--cache" -> cache = onOff(name, value);
                        case "--max-new-tokens" -> maxNewTokens = positiveInt(name, value);
                        case "--timeout" -> timeoutSeconds = positiveInt(name, value);
                        case "--seed" -> seed = parseLong(name, value);
                        case "--wait-ready" -> waitReadySeconds = nonNegativeInt(name, value);
                        case "--admin-token" -> adminToken = value;
                        case "--api-key" -> apiKey = value;
                        case "--api" -> api = api(name, value);
                        case "--model" -> model = value;
                        case "--json" -> jsonOut = Path.of(value);
                        default -> throw new UsageException("unknown option " + name);
                    }
                }
            }
        }

        if (mode == null) {
            throw new UsageException("say which benchmark: sequential, concurrent or conversation");
        }
        if (mode == Mode.CONVERSATION && requests != null) {
            throw new UsageException("--requests applies to sequential and concurrent; a conversation run sends "
                    + "--conversations x --turns");
        }
        if (mode != Mode.CONVERSATION && (conversations != null || turns != null)) {
            throw new UsageException((conversations != null ? "--conversations" : "--turns")
                    + " applies to the conversation benchmark");
        }
        if (mode == Mode.SEQUENTIAL && concurrency != null && concurrency != 1) {
            throw new UsageException("--concurrency applies to the concurrent benchmark; sequential sends one at a time");
        }
        if (model != null && api != Api.OPENAI) {
            throw new UsageException("--model applies to --api openai; the seed's API names no model");
        }
        if (model != null && model.isBlank()) {
            throw new UsageException("--model must name a model");
        }
        if (adminToken == null) {
            adminToken = fromEnvironment(env, ADMIN_TOKEN_ENV);
        }
        if (apiKey == null) {
            apiKey = fromEnvironment(env, API_KEY_ENV);
        }
        if (clearCache && adminToken == null) {
            throw new UsageException("--clear-cache needs the admin token (--admin-token or $" + ADMIN_TOKEN_ENV + ")");
        }
        boolean conversing = mode == Mode.CONVERSATION;
        int conversationCount = conversing ? conversations == null ? DEFAULT_CONVERSATIONS : conversations : 0;
        int turnCount = conversing ? turns == null ? DEFAULT_TURNS : turns : 0;
        if ((long) conversationCount * turnCount > Integer.MAX_VALUE) {
            throw new UsageException("--conversations x --turns is more requests than one run can count");
        }
        int n = conversing ? conversationCount * turnCount : requests == null ? DEFAULT_REQUESTS : requests;
        int c = mode == Mode.SEQUENTIAL ? 1
                : concurrency != null ? concurrency
                : conversing ? DEFAULT_CONVERSATION_CONCURRENCY : DEFAULT_CONCURRENCY;
        boolean useCache = cache != null ? cache : !conversing;
        return new BenchmarkOptions(baseUrl(url), mode, n, c, conversationCount, turnCount, useCache, maxNewTokens,
                Duration.ofSeconds(timeoutSeconds), seed, Duration.ofSeconds(waitReadySeconds), clearCache, adminToken,
                apiKey, stream, api, model, jsonOut);
    }

    /** The URL of {@code path}, relative to the base URL ("api/v1/inference", no leading slash). */
    public URI endpoint(String path) {
        return url.resolve(path);
    }

    private static URI baseUrl(String text) throws UsageException {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new UsageException("--url is not a URL: " + text);
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new UsageException("--url must be http:// or https:// with a host, e.g. " + DEFAULT_URL);
        }
        if (uri.getQuery() != null || uri.getFragment() != null) {
            throw new UsageException("--url takes no query or fragment: " + text);
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        // a service deployed under a context root keeps it: http://host/ctx -> http://host/ctx/api/...
        String normalised = path.endsWith("/") ? path : path + "/";
        try {
            return new URI(uri.getScheme(), uri.getUserInfo(), uri.getHost(), uri.getPort(), normalised, null, null);
        } catch (URISyntaxException e) {
            throw new UsageException("--url is not a URL: " + text);
        }
    }

    private static String fromEnvironment(Map<String, String> env, String name) {
        String value = env == null ? null : env.get(name);
        return value == null || value.isBlank() ? null : value;
    }

    private static Api api(String name, String value) throws UsageException {
        Api api = Api.fromWord(value);
        if (api == null) {
            throw new UsageException(name + " must be seed or openai, not '" + value + "'");
        }
        return api;
    }

    private static boolean onOff(String name, String value) throws UsageException {
        return switch (value) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw new UsageException(name + " must be on or off, not '" + value + "'");
        };
    }

    private static int positiveInt(String name, String value) throws UsageException {
        int n = parseInt(name, value);
        if (n < 1) {
            throw new UsageException(name + " must be at least 1, not " + value);
        }
        return n;
    }

    private static int nonNegativeInt(String name, String value) throws UsageException {
        int n = parseInt(name, value);
        if (n < 0) {
            throw new UsageException(name + " must be 0 or more, not " + value);
        }
        return n;
    }

    private static int parseInt(String name, String value) throws UsageException {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a whole number, not '" + value + "'");
        }
    }

    private static long parseLong(String name, String value) throws UsageException {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a whole number, not '" + value + "'");
        }
    }
}
