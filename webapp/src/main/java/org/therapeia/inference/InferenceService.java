package org.therapeia.inference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceMetadata;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceResponse;
import org.therapeia.cache.CacheKey;
import org.therapeia.cache.CachedReply;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;
import org.therapeia.config.PrefixCacheScope;
import org.therapeia.engine.SamplingParams;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.metrics.ServiceMetrics;
import org.therapeia.safety.GuardedPieces;
import org.therapeia.safety.SafetyService;
import org.therapeia.safety.Screening;

/**
 * One inference, end to end: response cache, chat template and tokenizer (the prompt), the
 * scheduler's engine thread, detokenisation, metrics and the cache again. Nothing here logs what
 * the person or the model wrote.
 */
@ApplicationScoped
public class InferenceService {

    private static final Logger LOG = Logger.getLogger(InferenceService.class.getName());

    private static final double NANOS = 1e9;
    /** Beyond request.timeout (enforced by the engine thread) for the work after the last token. */
    private static final Duration REPLY_SLACK = Duration.ofSeconds(5);

    private InferenceConfig config;
    private ModelRuntime runtime;
    private ResponseCache cache;
    private LatencyTracker tracker;
    private ServiceMetrics metrics;
    private SafetyService safety;
    private final ReuseScopes reuseScopes = new ReuseScopes();

    protected InferenceService() {
    }

    @Inject
    public InferenceService(InferenceConfig config, ModelRuntime runtime, ResponseCache cache, LatencyTracker tracker,
                            ServiceMetrics metrics, SafetyService safety) {
        this.config = config;
        this.safety = safety;
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
        return infer(request, SamplingDefaults.SERVICE, arrivalNanos, pieces);
    }

    /**
     * Answers {@code request} as {@link #infer(InferenceRequest, long, Consumer)} does, with the
     * sampling parameters it leaves out taken as {@code defaults} says.
     */
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request, SamplingDefaults defaults,
                                                      long arrivalNanos, Consumer<String> pieces) {
        LoadedModel model = runtime.ready();
        String basePrompt = request.systemPrompt() != null ? request.systemPrompt() : config.defaultSystemPrompt();
        List<ChatMessage> history = request.conversationHistory();
        // safety first: graded before the cache and the model (level >= 2: no cache, resources, addendum)
        Screening screening = safety.screen(request.userInput(), history, request.locale(), history.isEmpty());
        // the signal is recorded once, replied to or not (a refusal, a failure, a client that left)
        AtomicBoolean recorded = new AtomicBoolean();
        try {
            return answer(request, defaults, arrivalNanos, pieces, model, basePrompt, history, screening, recorded);
        } catch (RuntimeException e) {
            if (recorded.compareAndSet(false, true)) {
                safety.unanswered(screening, model.modelId());
            }
            throw e;
        }
    }

    private CompletableFuture<InferenceResponse> answer(InferenceRequest request, SamplingDefaults defaults,
                                                        long arrivalNanos, Consumer<String> pieces, LoadedModel model,
                                                        String basePrompt, List<ChatMessage> history,
                                                        Screening screening, AtomicBoolean recorded) {
        String systemPrompt = safety.systemPrompt(screening, basePrompt);
        String prefix = safety.prefix(screening);
        // resources (level 3 and 4) and the disclosure arrive before the first token, in the same stream
        Consumer<String> out = pieces == null ? null : new PrefixedPieces(prefix, pieces);
        // the history the prompt keeps while it fits the context (the key of a reply to exactly it)
        List<ChatMessage> window = model.promptBuilder().window().kept(history);
        SamplingParams params = samplingParams(request,
                defaults == SamplingDefaults.MODEL_THEN_SERVICE ? model.samplingDefaults() : ModelSamplingDefaults.NONE);

        // isolated: a cache hit (cache_hit, the time it took) would tell a client that another sent the
        // same conversation, which is what isolation hides; so entries are shared under the same
        // cache_salt only, and a request without one neither reads nor writes them
        boolean isolated = config.prefixCacheScope() == PrefixCacheScope.ISOLATED;
        // isolated without a cache_salt: nothing of this request is shared, in either cache
        boolean sharesNothing = isolated && request.cacheSalt() == null;
        boolean useCache = config.enableResponseCache() && request.useCache() && safety.cacheAllowed(screening)
                && !sharesNothing;
        CacheKey key = null;
        if (useCache) {
            // without a seed a sampled reply is as good as any other: one entry for all of them
            key = CacheKey.of(model.fingerprint(), systemPrompt, window, request.userInput(), params, request.stop(),
                    request.seed() != null, isolated ? request.cacheSalt() : null);
            Optional<CachedReply> hit = cache.get(key);
            tracker.cacheLookup(hit.isPresent());
            metrics.cacheLookup(hit.isPresent());
            if (hit.isPresent()) {
                if (out != null && !(prefix.isEmpty() && hit.get().response().isEmpty())) {
                    out.accept(hit.get().response());
                }
                InferenceResponse cached = fromCache(hit.get(), model, arrivalNanos, screening, prefix);
                if (recorded.compareAndSet(false, true)) {
                    safety.replied(screening, false, true, model.modelId());
                }
                return CompletableFuture.completedFuture(cached);
            }
        }

        // the whole history: the builder's window picks what it keeps (and drops more should it not fit)
        Prompt prompt = model.promptBuilder().build(systemPrompt, history, request.userInput(), params.maxNewTokens(),
                model.maxContext());
        CacheKey cacheKey = key;
        StopStrings stops = new StopStrings(request.stop());
        GuardedPieces guard = out != null && safety.checksOutput(screening) ? safety.guard(out) : null;
        Consumer<String> sink = guard != null ? guard : out;
        StreamingDecoder decoder = sink == null && stops.isEmpty() ? null
                : new StreamingDecoder(model.tokenizer()::decode, sink == null ? piece -> { } : sink,
                        model.streamThreads(), stops, System::nanoTime, config.streamPieceInterval().toNanos());
        // the screening, the template and the tokenizer took this long: part of the time to the first token
        long beforeSubmitNanos = System.nanoTime() - arrivalNanos;
        long reuseScope = reuseScopes.of(config.prefixCacheScope(), request.cacheSalt());
        CompletableFuture<Generation> generation = model.scheduler().submit(prompt.ids(), params,
                config.requestTimeout(), reuseScope, decoder == null ? TokenListener.NONE : decoder);
        // a request that shares nothing has an engine scope of its own: no later turn could reuse
        // a prefill ahead, which would only evict someone's warm slot
        boolean prefillAhead = config.prefixCachePrefillAhead() && !sharesNothing;
        if (prefillAhead) {
            prefillNextWindow(model, reuseScope, () -> model.promptBuilder().nextWindowStartBeforeReply(systemPrompt,
                    history, request.userInput(), prompt.historyMessages()));
        }
        // handleAsync, not thenApplyAsync: a failed generation must also leave the engine thread
        // before anyone hears of it (a failure skips thenApplyAsync's executor)
        CompletableFuture<InferenceResponse> reply = generation.handleAsync((g, failure) -> {
            if (failure != null) {
                if (decoder != null) {
                    decoder.stop(); // no piece may follow the failure
                }
                throw failure instanceof CompletionException c ? c : new CompletionException(failure);
            }
            InferenceResponse response = complete(g, prompt, model, cacheKey, arrivalNanos, beforeSubmitNanos,
                    decoder, stops, screening, guard, out, recorded);
            if (prefillAhead) {
                prefillNextWindow(model, reuseScope, () -> model.promptBuilder().nextWindowStart(systemPrompt,
                        history, request.userInput(), response.response(), prompt.historyMessages()));
            }
            return response;
        }, completions(model));
        reply.whenComplete((r, failure) -> {
            if (failure != null) { // given up (a client gone, an endpoint's deadline): so is the generation
                generation.cancel(false);
                if (recorded.compareAndSet(false, true)) {
                    safety.unanswered(screening, model.modelId());
                }
            }
        });
        return reply;
    }

    /**
     * Where the history window will move at this conversation's next turn, has the engine prefill
     * that turn's new beginning before it comes ({@link Scheduler#prefillAhead}): once when the
     * request is submitted, up to this turn's message ({@link PromptBuilder#nextWindowStartBeforeReply},
     * computed while the reply is generated, after its first token), and once the reply is done,
     * with it ({@link PromptBuilder#nextWindowStart}: the history as the client will resend it).
     * Best effort: a template that will not render such a conversation gets none, and the request
     * never fails for it (it waits for one template render and tokenisation, on the turns before the
     * window moves only, after the request is queued).
     */
    private static void prefillNextWindow(LoadedModel model, long reuseScope, Supplier<Optional<int[]>> nextStart) {
        try {
            nextStart.get().ifPresent(ids -> model.scheduler().prefillAhead(ids, reuseScope));
        } catch (ChatTemplateException | TokenizerException e) {
            LOG.log(Level.FINE, "no prefill ahead: " + e.getClass().getSimpleName());
        }
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
                                       long arrivalNanos, long beforeSubmitNanos, StreamingDecoder decoder,
                                       StopStrings stops,
                                       Screening screening, GuardedPieces guard, Consumer<String> pieces,
                                       AtomicBoolean recorded) {
        int[] tokens = g.tokens();
        String decoded = model.tokenizer().decode(tokens);
        String finishReason = g.stoppedByEos() ? "stop" : "length";
        if (stops.firstMatch(decoded) >= 0) {
            tokens = tokensToStop(tokens, decoder.tokensAtStop(), stops, model.tokenizer()::decode);
            decoded = model.tokenizer().decode(tokens);
            decoded = decoded.substring(0, Math.max(0, stops.firstMatch(decoded)));
            finishReason = "stop";
        }
        String text = decoded.strip();
        if (decoder != null) {
            decoder.finish(text);
        }
        boolean replaced = safety.checksOutput(screening)
                && (guard != null ? guard.finish(text) : safety.mentionsMethod(text));
        String suffix = safety.suffix(screening);
        if (pieces != null) {
            if (!safety.prefix(screening).isEmpty()) {
                pieces.accept(""); // sends the prefix, should the model have written nothing
            }
            if (replaced) {
                pieces.accept("\n\n" + safety.fallback()); // a replaced reply ends with the fallback
            }
            if (!suffix.isEmpty()) {
                pieces.accept(suffix);
            }
        }
        if (recorded.compareAndSet(false, true)) {
            safety.replied(screening, replaced, false, model.modelId());
        }
        String reply = safety.prefix(screening) + (replaced ? safety.fallback() : text) + suffix;
        if (cacheKey != null) {
            cache.put(cacheKey, new CachedReply(text, tokens.length, prompt.ids().length, prompt.historyMessages(),
                    finishReason));
        }
        long latency = System.nanoTime() - arrivalNanos;
        tracker.record(latency);
        metrics.requestCompleted(latency, false);
        metrics.generationSpeed(g.tokens().length, g.generationNanos());
        metrics.firstToken(beforeSubmitNanos + g.firstTokenNanos());
        return new InferenceResponse(reply, latency / NANOS, false, tokens.length,
                new InferenceMetadata(g.generationNanos() / NANOS, prompt.ids().length, g.promptTokensReused(),
                        (beforeSubmitNanos + g.firstTokenNanos()) / NANOS,
                        g.queueNanos() / NANOS, prompt.historyMessages(), finishReason, model.modelId(),
                        safety.report(screening)));
    }

    /**
     * The fewest leading tokens whose text holds a stop string (what the reply used; the engine may
     * have produced a few more before the scheduler ended it), searched down from where the
     * streaming decoder first saw one.
     */
    static int[] tokensToStop(int[] tokens, int seenAt, StopStrings stops, Function<int[], String> decode) {
        int k = tokens.length;
        if (seenAt > 0 && seenAt < k && stops.firstMatch(decode.apply(Arrays.copyOf(tokens, seenAt))) >= 0) {
            k = seenAt;
        }
        while (k > 1 && stops.firstMatch(decode.apply(Arrays.copyOf(tokens, k - 1))) >= 0) {
            k--;
        }
        return Arrays.copyOf(tokens, k);
    }

    private InferenceResponse fromCache(CachedReply reply, LoadedModel model, long arrivalNanos, Screening screening,
                                        String prefix) {
        long latency = System.nanoTime() - arrivalNanos;
        tracker.record(latency);
        metrics.requestCompleted(latency, true);
        return new InferenceResponse(prefix + reply.response(), latency / NANOS, true, reply.tokensGenerated(),
                new InferenceMetadata(0.0, reply.inputTokens(), 0, 0.0, 0.0, reply.historyMessages(),
                        reply.finishReason(), model.modelId(), safety.report(screening)));
    }

    /**
     * The request's overrides over {@code model}'s defaults ({@link ModelSamplingDefaults#NONE} for
     * none) over the configured ones; a sampled request without a seed gets a random one.
     */
    SamplingParams samplingParams(InferenceRequest r, ModelSamplingDefaults model) {
        double temperature = r.temperature() != null ? r.temperature() : model.temperature(config.temperature());
        long seed = r.seed() != null ? r.seed() : temperature == 0 ? 0 : ThreadLocalRandom.current().nextLong();
        return new SamplingParams(
                r.maxNewTokens() != null ? r.maxNewTokens() : config.maxNewTokens(),
                temperature,
                r.topK() != null ? r.topK() : model.topK(config.topK()),
                r.topP() != null ? r.topP() : model.topP(config.topP()),
                r.repetitionPenalty() != null ? r.repetitionPenalty()
                        : model.repetitionPenalty(config.repetitionPenalty()),
                r.frequencyPenalty() != null ? r.frequencyPenalty() : 0.0,
                r.presencePenalty() != null ? r.presencePenalty() : 0.0,
                seed);
    }

    /**
     * Completions leave the engine thread at once: decoding and the cache write run on the model's
     * pooled managed threads, as the streams' drains do. Not the ManagedExecutorService: its every
     * submit captures the submitter's context on the engine thread (in Payara a class path scan,
     * about 0.1 ms, once per request; issue 16). Should a completion come after those threads
     * stopped (a stop whose drain ran out), it runs where it is, so that its caller still hears.
     */
    private static Executor completions(LoadedModel model) {
        return task -> {
            try {
                model.streamThreads().execute(task);
            } catch (RejectedExecutionException stopped) {
                task.run();
            }
        };
    }
}
