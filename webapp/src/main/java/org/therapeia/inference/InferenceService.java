package org.therapeia.inference;

import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceMetadata;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceResponse;
import org.therapeia.cache.CacheKey;
import org.therapeia.cache.CachedReply;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;
import org.therapeia.engine.SamplingParams;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.metrics.ServiceMetrics;

/**
 * One inference, end to end: response cache, chat template and tokenizer (the prompt), the
 * scheduler's engine thread, detokenisation, metrics and the cache again. Nothing here logs what
 * the person or the model wrote.
 */
@ApplicationScoped
public class InferenceService {

    private static final double NANOS = 1e9;
    /** Beyond request.timeout (enforced by the engine thread) for the work after the last token. */
    private static final Duration REPLY_SLACK = Duration.ofSeconds(5);

    @Resource
    private ManagedExecutorService managedExecutor;

    private InferenceConfig config;
    private ModelRuntime runtime;
    private ResponseCache cache;
    private LatencyTracker tracker;
    private ServiceMetrics metrics;

    protected InferenceService() {
    }

    @Inject
    public InferenceService(InferenceConfig config, ModelRuntime runtime, ResponseCache cache, LatencyTracker tracker,
                            ServiceMetrics metrics) {
        this.config = config;
        this.runtime = runtime;
        this.cache = cache;
        this.tracker = tracker;
        this.metrics = metrics;
    }

    /**
     * Answers {@code request}. Synchronous failures (not ready, queue full, prompt too long, chat
     * template refusal) are thrown; the generation's own (timeout, engine error) fail the stage.
     *
     * @param arrivalNanos when the request arrived ({@link System#nanoTime()})
     */
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request, long arrivalNanos) {
        return infer(request, arrivalNanos, null);
    }

    /**
     * Answers {@code request} as {@link #infer(InferenceRequest, long)} does, and hands the reply's
     * text to {@code pieces} as it is generated (a cached reply in one piece); the pieces, heard in
     * order and never two at once, concatenate to the final {@code response} (some may be empty:
     * tokens that added no text yet; see {@link StreamingDecoder} for the rare exception). Cancelling the
     * returned future gives the generation up: it leaves the queue or the engine at the engine
     * thread's next turn, and nothing is cached.
     *
     * @param pieces null when the caller wants only the final reply
     */
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request, long arrivalNanos,
                                                      Consumer<String> pieces) {
        LoadedModel model = runtime.ready();
        String systemPrompt = request.systemPrompt() != null ? request.systemPrompt() : config.defaultSystemPrompt();
        List<ChatMessage> history = request.conversationHistory();
        List<ChatMessage> window = history.subList(Math.max(0, history.size() - config.contextWindow()),
                history.size());
        SamplingParams params = samplingParams(request);

        boolean useCache = config.enableResponseCache() && request.useCache();
        CacheKey key = null;
        if (useCache) {
            // without a seed a sampled reply is as good as any other: one entry for all of them
            SamplingParams keyParams = request.seed() == null ? withSeed(params, -1) : params;
            key = CacheKey.of(model.fingerprint(), systemPrompt, window, request.userInput(), keyParams);
            Optional<CachedReply> hit = cache.get(key);
            tracker.cacheLookup(hit.isPresent());
            metrics.cacheLookup(hit.isPresent());
            if (hit.isPresent()) {
                if (pieces != null && !hit.get().response().isEmpty()) {
                    pieces.accept(hit.get().response());
                }
                return CompletableFuture.completedFuture(fromCache(hit.get(), model, arrivalNanos));
            }
        }

        Prompt prompt = model.promptBuilder().build(systemPrompt, window, request.userInput(), params.maxNewTokens(),
                model.maxContext());
        CacheKey cacheKey = key;
        StreamingDecoder decoder = pieces == null ? null
                : new StreamingDecoder(model.tokenizer()::decode, pieces, executor());
        CompletableFuture<Generation> generation = model.scheduler().submit(prompt.ids(), params,
                config.requestTimeout(), decoder == null ? TokenListener.NONE : decoder);
        // handleAsync, not thenApplyAsync: a failed generation must also leave the engine thread
        // before anyone hears of it (a failure skips thenApplyAsync's executor)
        CompletableFuture<InferenceResponse> reply = generation.handleAsync((g, failure) -> {
            if (failure != null) {
                if (decoder != null) {
                    decoder.stop(); // no piece may follow the failure
                }
                throw failure instanceof CompletionException c ? c : new CompletionException(failure);
            }
            return complete(g, prompt, model, cacheKey, arrivalNanos, decoder);
        }, executor());
        reply.whenComplete((r, failure) -> {
            if (failure != null) { // given up (a client gone, an endpoint's deadline): so is the generation
                generation.cancel(false);
            }
        });
        return reply;
    }

    /**
     * How long an endpoint waits for a reply before it answers 504 itself: {@code request.timeout},
     * which the engine thread enforces, plus slack for the work after the last token. A backstop,
     * so that no client waits forever even should the engine thread be stuck in a step.
     */
    public Duration replyDeadline() {
        return config.requestTimeout().plus(REPLY_SLACK);
    }

    private InferenceResponse complete(Generation g, Prompt prompt, LoadedModel model, CacheKey cacheKey,
                                       long arrivalNanos, StreamingDecoder decoder) {
        String text = model.tokenizer().decode(g.tokens()).strip();
        if (decoder != null) {
            decoder.finish(text);
        }
        String finishReason = g.stoppedByEos() ? "stop" : "length";
        if (cacheKey != null) {
            cache.put(cacheKey, new CachedReply(text, g.tokens().length, prompt.ids().length, prompt.historyMessages(),
                    finishReason));
        }
        long latency = System.nanoTime() - arrivalNanos;
        tracker.record(latency);
        metrics.requestCompleted(latency, false);
        metrics.generationSpeed(g.tokens().length, g.generationNanos());
        return new InferenceResponse(text, latency / NANOS, false, g.tokens().length,
                new InferenceMetadata(g.generationNanos() / NANOS, prompt.ids().length, g.firstTokenNanos() / NANOS,
                        g.queueNanos() / NANOS, prompt.historyMessages(), finishReason, model.modelId()));
    }

    private InferenceResponse fromCache(CachedReply reply, LoadedModel model, long arrivalNanos) {
        long latency = System.nanoTime() - arrivalNanos;
        tracker.record(latency);
        metrics.requestCompleted(latency, true);
        return new InferenceResponse(reply.response(), latency / NANOS, true, reply.tokensGenerated(),
                new InferenceMetadata(0.0, reply.inputTokens(), 0.0, 0.0, reply.historyMessages(),
                        reply.finishReason(), model.modelId()));
    }

    /** The request's overrides over the configured defaults; a sampled request without a seed gets a random one. */
    SamplingParams samplingParams(InferenceRequest r) {
        double temperature = r.temperature() != null ? r.temperature() : config.temperature();
        long seed = r.seed() != null ? r.seed() : temperature == 0 ? 0 : ThreadLocalRandom.current().nextLong();
        return new SamplingParams(
                r.maxNewTokens() != null ? r.maxNewTokens() : config.maxNewTokens(),
                temperature,
                r.topK() != null ? r.topK() : config.topK(),
                r.topP() != null ? r.topP() : config.topP(),
                r.repetitionPenalty() != null ? r.repetitionPenalty() : config.repetitionPenalty(),
                seed);
    }

    private static SamplingParams withSeed(SamplingParams p, long seed) {
        return new SamplingParams(p.maxNewTokens(), p.temperature(), p.topK(), p.topP(), p.repetitionPenalty(), seed);
    }

    /** Completions leave the engine thread at once: decoding and the cache write run here. */
    private Executor executor() {
        return managedExecutor != null ? managedExecutor : ForkJoinPool.commonPool();
    }
}
