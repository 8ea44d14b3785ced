package org.therapeia.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.Config;

/**
 * All of the service's settings, read once from MicroProfile Config. Defaults live in
 * {@code META-INF/microprofile-config.properties}; any config source overrides them, and by the
 * MicroProfile rule an environment variable named like the property in upper case with
 * non-alphanumerics as underscores does too ({@code model.path} from {@code MODEL_PATH},
 * {@code cache.ttl} from {@code CACHE_TTL}, {@code max_new_tokens} from {@code MAX_NEW_TOKENS}).
 *
 * <p>The seed's {@code InferenceConfig} fields keep their names as property names. A value out
 * of range stops the deployment with a message naming the property, rather than failing later
 * on the first request.
 */
@ApplicationScoped
public class InferenceConfig {

    /** The shortest cache.secret accepted: 32 characters. */
    public static final int MIN_CACHE_SECRET_CHARS = 32;

    // model and engine
    private Path modelPath;
    private Optional<String> modelId;
    private List<String> modelAliases;
    private String device;
    private String dtype;
    private int batchSize;
    private int engineThreads;
    private boolean prefixCacheEnabled;
    private boolean prefixCachePrefillAhead;
    private PrefixCacheScope prefixCacheScope;
    private boolean useCache;
    private boolean useFlashAttention;
    private boolean compileModel;

    // generation defaults (a request may override them)
    private int maxNewTokens;
    private double temperature;
    private double topP;
    private int topK;
    private double repetitionPenalty;

    // context
    private int maxContextLength;
    private int contextWindow;
    private int contextWindowStep;
    private String defaultSystemPrompt;

    // response cache
    private boolean enableResponseCache;
    private String cacheName;
    private int cacheSize;
    private Duration cacheTtl;
    private Optional<String> cacheSecret;

    // serving
    private String host;
    private int port;
    private int workers;
    private int queueCapacity;
    private Duration requestTimeout;
    private Duration streamPieceInterval;
    private int warmupRequests;
    private double slaP95Seconds;
    private Duration metricsWindow;
    private Duration livenessStall;
    private Duration shutdownDrain;
    private Optional<String> adminToken;
    private Optional<String> apiKey;

    // request limits
    private int maxUserInputChars;
    private int maxMessageChars;
    private int maxHistoryMessages;
    private int maxNewTokensLimit;
    private int maxBodyBytes;

    /** For the CDI proxy only. */
    protected InferenceConfig() {
    }

    @Inject
    public InferenceConfig(Config config) {
        modelPath = Path.of(string(config, "model.path"));
        modelId = config.getOptionalValue("model.id", String.class).map(String::strip).filter(s -> !s.isEmpty());
        modelAliases = config.getOptionalValues("model.aliases", String.class).orElse(List.of()).stream()
                .map(String::strip).filter(s -> !s.isEmpty()).distinct().toList();
        device = string(config, "device");
        dtype = string(config, "dtype");
        batchSize = integer(config, "batch_size", v -> v >= 1, "at least 1");
        engineThreads = integer(config, "engine.threads", v -> v >= 0, "0 (the CPUs the process may use) or more");
        prefixCacheEnabled = config.getValue("prefix_cache.enabled", Boolean.class);
        prefixCachePrefillAhead = config.getValue("prefix_cache.prefill_ahead", Boolean.class);
        prefixCacheScope = PrefixCacheScope.parse(string(config, "prefix_cache.scope"));
        useCache = config.getValue("use_cache", Boolean.class);
        useFlashAttention = config.getValue("use_flash_attention", Boolean.class);
        compileModel = config.getValue("compile_model", Boolean.class);

        maxNewTokensLimit = integer(config, "limits.max-new-tokens", v -> v >= 1, "at least 1");
        maxNewTokens = integer(config, "max_new_tokens", v -> v >= 1 && v <= maxNewTokensLimit,
                "between 1 and limits.max-new-tokens (" + maxNewTokensLimit + ")");
        temperature = decimal(config, "temperature", SamplingRanges::temperature, SamplingRanges.TEMPERATURE_RULE);
        topP = decimal(config, "top_p", SamplingRanges::topP, SamplingRanges.TOP_P_RULE);
        topK = integer(config, "top_k", v -> SamplingRanges.topK(v), SamplingRanges.TOP_K_RULE);
        repetitionPenalty = decimal(config, "repetition_penalty", SamplingRanges::repetitionPenalty,
                SamplingRanges.REPETITION_PENALTY_RULE);

        maxContextLength = integer(config, "max_context_length", v -> v >= 2, "at least 2");
        contextWindow = integer(config, "context_window", v -> v >= 0, "0 or more");
        contextWindowStep = integer(config, "context_window.step", v -> v >= 1, "at least 1");
        defaultSystemPrompt = config.getOptionalValue("default_system_prompt", String.class).orElse("");

        enableResponseCache = config.getValue("enable_response_cache", Boolean.class);
        cacheName = string(config, "cache.name");
        cacheSize = integer(config, "cache.size", v -> v >= 1, "at least 1");
        cacheTtl = Duration.ofSeconds(integer(config, "cache.ttl", v -> v >= 1, "at least 1 second"));
        cacheSecret = config.getOptionalValue("cache.secret", String.class).map(String::strip).filter(s -> !s.isEmpty());
        if (cacheSecret.isPresent() && cacheSecret.get().length() < MIN_CACHE_SECRET_CHARS) {
            // the value itself never goes into a message
            throw new IllegalArgumentException("configuration property cache.secret has " + cacheSecret.get().length()
                    + " characters; it must have at least " + MIN_CACHE_SECRET_CHARS
                    + " (for example the output of: openssl rand -base64 32)");
        }

        host = string(config, "host");
        port = integer(config, "port", v -> v >= 1 && v <= 65535, "a TCP port");
        workers = integer(config, "workers", v -> v >= 1, "at least 1");
        queueCapacity = integer(config, "queue.capacity", v -> v >= 1, "at least 1");
        requestTimeout = Duration.ofMillis(Math.round(1000 * decimal(config, "request.timeout", v -> v > 0,
                "greater than 0 seconds")));
        streamPieceInterval = Duration.ofMillis(integer(config, "stream.piece-interval-ms", v -> v >= 0,
                "0 or more"));
        warmupRequests = integer(config, "warmup.requests", v -> v >= 0, "0 or more");
        slaP95Seconds = decimal(config, "sla.p95-seconds", v -> v > 0, "greater than 0");
        metricsWindow = Duration.ofSeconds(integer(config, "metrics.window-seconds", v -> v >= 1, "at least 1"));
        livenessStall = Duration.ofSeconds(integer(config, "liveness.stall-seconds", v -> v >= 1, "at least 1"));
        shutdownDrain = Duration.ofSeconds(integer(config, "shutdown.drain-seconds", v -> v >= 0, "0 or more"));
        adminToken = config.getOptionalValue("admin.token", String.class).map(String::strip).filter(s -> !s.isEmpty());
        apiKey = config.getOptionalValue("api.key", String.class).map(String::strip).filter(s -> !s.isEmpty());

        maxUserInputChars = integer(config, "limits.user-input-chars", v -> v >= 1, "at least 1");
        maxMessageChars = integer(config, "limits.message-chars", v -> v >= 1, "at least 1");
        maxHistoryMessages = integer(config, "limits.history-messages", v -> v >= 0, "0 or more");
        maxBodyBytes = integer(config, "limits.body-bytes", v -> v >= 64, "at least 64");
    }

    private static String string(Config config, String name) {
        String value = config.getValue(name, String.class).strip();
        if (value.isEmpty()) {
            throw new IllegalArgumentException("configuration property " + name + " must not be empty");
        }
        return value;
    }

    private static int integer(Config config, String name, Predicate<Integer> valid, String rule) {
        int value = config.getValue(name, Integer.class);
        if (!valid.test(value)) {
            throw new IllegalArgumentException("configuration property " + name + " is " + value + "; it must be "
                    + rule);
        }
        return value;
    }

    private static double decimal(Config config, String name, Predicate<Double> valid, String rule) {
        double value = config.getValue(name, Double.class);
        if (!Double.isFinite(value) || !valid.test(value)) {
            throw new IllegalArgumentException("configuration property " + name + " is " + value + "; it must be "
                    + rule);
        }
        return value;
    }

    /** A Hugging Face model folder: config.json, safetensors, tokenizer.json, tokenizer_config.json. */
    public Path modelPath() {
        return modelPath;
    }

    /** The model's name in responses: {@code model.id}, else the folder's name (cache keys use its fingerprint). */
    public String modelId() {
        return modelId.orElseGet(() -> {
            Path name = modelPath.toAbsolutePath().normalize().getFileName();
            return name == null ? modelPath.toString() : name.toString();
        });
    }

    /**
     * The names a request may give for the served model: {@link #modelId()} first, then
     * {@code model.aliases} (each once).
     */
    public List<String> servedModelNames() {
        return Stream.concat(Stream.of(modelId()), modelAliases.stream()).distinct().toList();
    }

    /** Whether {@code name} is the served model's id or one of its aliases (exactly, as OpenAI compares). */
    public boolean servesModel(String name) {
        return servedModelNames().contains(name);
    }

    /** {@code cpu}, {@code cuda} or {@code cuda:N}. */
    public String device() {
        return device;
    }

    /** {@code float32}, {@code bfloat16}, {@code float16} or {@code int8} (8-bit weights, CPU only). */
    public String dtype() {
        return dtype;
    }

    /** Sequences decoded together: the engine's KV cache slots. */
    /** Whether the engine keeps finished sequences' KV for later prompts with the same prefix. */
    public boolean prefixCacheEnabled() {
        return prefixCacheEnabled;
    }

    /**
     * Whether, where the history window will move at a conversation's next turn, the engine prefills
     * that turn's new beginning while it has nothing else to do (with the prefix cache on).
     */
    public boolean prefixCachePrefillAhead() {
        return prefixCacheEnabled && prefixCachePrefillAhead;
    }

    /** Whose warm prefixes a request may reuse. */
    public PrefixCacheScope prefixCacheScope() {
        return prefixCacheScope;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Intra-op threads of the engine thread; 0 = the CPUs the process may use (affinity, cgroup quota). */
    public int engineThreads() {
        return engineThreads;
    }

    /** The seed's KV cache switch; the engine always decodes with its KV cache. */
    public boolean useCache() {
        return useCache;
    }

    /** The seed's flash attention switch; the engine uses scaled dot-product attention. */
    public boolean useFlashAttention() {
        return useFlashAttention;
    }

    /** The seed's torch.compile switch (CUDA graph capture of the decode step). */
    public boolean compileModel() {
        return compileModel;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    public double temperature() {
        return temperature;
    }

    public double topP() {
        return topP;
    }

    public int topK() {
        return topK;
    }

    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    /** Tokens per sequence: prompt plus generated. */
    public int maxContextLength() {
        return maxContextLength;
    }

    /** The most history messages kept (the most recent). */
    public int contextWindow() {
        return contextWindow;
    }

    /**
     * History messages the window's start moves by once {@link #contextWindow()} overflows (1: the
     * seed's last {@code context_window} messages); see {@code inference.HistoryWindow}.
     */
    public int contextWindowStep() {
        return contextWindowStep;
    }

    /** Used when a request has no system_prompt; empty means none. */
    public String defaultSystemPrompt() {
        return defaultSystemPrompt;
    }

    public boolean enableResponseCache() {
        return enableResponseCache;
    }

    public String cacheName() {
        return cacheName;
    }

    public int cacheSize() {
        return cacheSize;
    }

    public Duration cacheTtl() {
        return cacheTtl;
    }

    /**
     * The secret behind the response cache's keys and entry encryption, the same on every member of a
     * cluster; required when clustered. Absent by default.
     */
    public Optional<String> cacheSecret() {
        return cacheSecret;
    }

    /** Where the launch script binds Payara Micro; the WAR itself does not open sockets. */
    public String host() {
        return host;
    }

    /** The launch script's HTTP port. */
    public int port() {
        return port;
    }

    /** The seed's worker count; the launch script sizes Payara's HTTP thread pool with it. */
    public int workers() {
        return workers;
    }

    /** Requests waiting for the engine beyond the running ones; more are refused with 503. */
    public int queueCapacity() {
        return queueCapacity;
    }

    /** From arrival to the last token; a request over it is cancelled. */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * The least time between two pieces of one streamed reply: a piece carries the tokens that came
     * within it (0: a piece per token, whatever the engine's speed).
     */
    public Duration streamPieceInterval() {
        return streamPieceInterval;
    }

    public int warmupRequests() {
        return warmupRequests;
    }

    public double slaP95Seconds() {
        return slaP95Seconds;
    }

    /** Latency percentiles cover this much recent time. */
    public Duration metricsWindow() {
        return metricsWindow;
    }

    /** Liveness fails when work waits and the engine thread has made no progress this long. */
    public Duration livenessStall() {
        return livenessStall;
    }

    /** On SIGTERM or undeploy, generations already taken may finish for this long; the rest end with 503. */
    public Duration shutdownDrain() {
        return shutdownDrain;
    }

    /** The token POST /api/v1/cache/clear requires; empty when none is set (then it refuses all). */
    public Optional<String> adminToken() {
        return adminToken;
    }

    /** When present, the inference endpoints require it (X-API-Key or Authorization: Bearer); absent by default. */
    public Optional<String> apiKey() {
        return apiKey;
    }

    public int maxUserInputChars() {
        return maxUserInputChars;
    }

    public int maxMessageChars() {
        return maxMessageChars;
    }

    public int maxHistoryMessages() {
        return maxHistoryMessages;
    }

    /** The most a request may ask for with max_new_tokens. */
    public int maxNewTokensLimit() {
        return maxNewTokensLimit;
    }

    public int maxBodyBytes() {
        return maxBodyBytes;
    }
}
