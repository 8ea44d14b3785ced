package org.therapeia.safety;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.therapeia.api.ChatMessage;
import org.therapeia.config.SafetyConfig;
import org.therapeia.inference.GenerationTimeoutException;

/**
 * The crisis-signal layer in front of the cache and the model: grades each request
 * ({@link #screen}), says what that changes (cache, system prompt, resources, output check), and
 * records what was done ({@link #replied}): metrics, one content-free audit record, and at level
 * 3 or more the operator webhook. A detection that fails or runs over its time limit makes the
 * request level 2 (fail safe): no cache, resources appended, and an answer all the same.
 *
 * <p>With a guard model configured ({@code safety.guard.model-path}) the guard judges the
 * conversation on its own engine while the rules read it, and the higher level wins; a guard that
 * is not loaded, fails, answers out of format or is late ({@code safety.guard.timeout-ms}) leaves
 * the rules to decide alone, counted in {@code therapeia_safety_guard_errors_total{reason}}.
 */
@ApplicationScoped
public class SafetyService {

    private static final Logger LOG = Logger.getLogger(SafetyService.class.getName());
    private static final String DETECTOR = "rules";

    @Resource
    private ManagedExecutorService managedExecutor;

    @Resource
    private ManagedThreadFactory managedThreadFactory;

    private SafetyConfig config;
    private SafetyMetrics metrics;
    private ConversationAssessor assessor;
    private ResourceDirectory directory;
    private WebhookNotifier webhook;
    private SafetyGuard guard;

    protected SafetyService() {
    }

    @Inject
    public SafetyService(SafetyConfig config, SafetyMetrics metrics) {
        this(config, metrics, new SafetyGuard(config));
    }

    /** With a guard whose life the caller may have begun (tests load it before the first request). */
    SafetyService(SafetyConfig config, SafetyMetrics metrics, SafetyGuard guard) {
        this.config = config;
        this.metrics = metrics;
        this.guard = guard;
    }

    @PostConstruct
    public void start() {
        assessor = new ConversationAssessor(new RuleDetector(config.ruleLanguages()), config.historyTurns(),
                config.decayTurns());
        directory = new ResourceDirectory(config.resourceLocales(), config.defaultLocale(), config.fallbackLocale());
        webhook = config.webhookUrl().map(url -> new WebhookNotifier(url, config.webhookTimeout(),
                config.webhookRetries(), config.webhookToken(), executor(), metrics)).orElse(null);
        List<String> problems = resourceProblems();
        if (!problems.isEmpty()) {
            LOG.log(Level.SEVERE, "CRISIS RESOURCES NEED ATTENTION ({0}): {1}; the crisis-resources health check "
                    + "is DOWN until safety/resources is fixed", new Object[] {problems.size(), problems});
        }
    }

    /**
     * At deployment: creates this service (an application-scoped bean is otherwise made at its
     * first use), so that the resource check's warning comes at start, and starts loading the
     * guard model, if one is configured, on its own thread.
     */
    void onStart(@Observes @Initialized(ApplicationScoped.class) Object event) {
        guard.start(threads());
    }

    /** Closes the guard model, if one was loaded. */
    @PreDestroy
    public void stop() {
        guard.close();
    }

    /** What is wrong with the enabled crisis resource tables today (empty: nothing). */
    public List<String> resourceProblems() {
        return directory.problems(LocalDate.now(ZoneOffset.UTC), config.resourcesMaxAgeDays());
    }

    /**
     * Grades a request before the cache and the model.
     *
     * @param history     the conversation so far, oldest first: the rules read the person's messages,
     *                    a guard model the recent turns of both sides
     * @param languageTag the request's locale ({@code locale} field or Accept-Language), or null
     * @param firstReply  the request has no history
     */
    public Screening screen(String message, List<ChatMessage> history, String languageTag, boolean firstReply) {
        // the guard first: it generates on its own engine thread while the rules read on this one
        GuardModel guardModel = guard.ready().orElse(null);
        if (guard.configured() && guardModel == null) {
            metrics.guardError("unavailable");
        }
        long guardDeadline = System.nanoTime() + config.guardTimeout().toNanos();
        CompletableFuture<GuardVerdict> guardVerdict = guardModel == null ? null : ask(guardModel, message, history);
        long start = System.nanoTime();
        Assessment assessment;
        try {
            assessment = assessor.assess(message, history.stream().filter(m -> ChatMessage.USER.equals(m.role()))
                    .map(ChatMessage::content).toList(), config.detectorTimeout());
        } catch (RuntimeException | StackOverflowError e) {
            // never the exception's text: a pattern error could quote what it was matching
            LOG.log(Level.WARNING, "crisis-signal detection failed ({0}); the request is treated as level 2",
                    e.getClass().getSimpleName());
            metrics.detectorError();
            assessment = Assessment.failSafe();
        }
        metrics.detection(System.nanoTime() - start);
        String detector = DETECTOR;
        if (guardVerdict != null) {
            Optional<GuardVerdict> verdict = await(guardVerdict, guardDeadline);
            if (verdict.isPresent()) {
                assessment = assessment.withGuard(verdict.get());
                detector = DETECTOR + "+" + guardModel.format().id();
            }
        }
        return new Screening(UUID.randomUUID().toString(), assessment, directory.resolve(languageTag), firstReply,
                detector);
    }

    private CompletableFuture<GuardVerdict> ask(GuardModel guardModel, String message, List<ChatMessage> history) {
        try {
            return guardModel.judge(GuardConversation.of(history, message, config.historyTurns()),
                    config.guardTimeout());
        } catch (RuntimeException e) { // a prompt too long for the guard, a queue full, a guard closing
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The guard's verdict, or empty (counted, by reason) when there is none by {@code deadline}. */
    private Optional<GuardVerdict> await(CompletableFuture<GuardVerdict> verdict, long deadline) {
        String reason;
        try {
            return Optional.of(verdict.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            verdict.cancel(false);
            reason = "timeout";
        } catch (ExecutionException e) {
            reason = e.getCause() instanceof GuardOutputUnreadableException ? "unreadable"
                    : e.getCause() instanceof GenerationTimeoutException ? "timeout" : "failed";
        } catch (CancellationException e) {
            reason = "failed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            verdict.cancel(false);
            reason = "failed";
        }
        // the reason only: a failure's message could quote the conversation or the guard's answer
        LOG.log(Level.FINE, "no guard verdict ({0}); the rules decide alone", reason);
        metrics.guardError(reason);
        return Optional.empty();
    }

    /** Whether the response cache may be read and written for this request. */
    public boolean cacheAllowed(Screening s) {
        return !s.atRisk();
    }

    /** The system prompt with the safe-messaging addendum at level 2 or more. */
    public String systemPrompt(Screening s, String systemPrompt) {
        if (!s.atRisk() || config.addendum().isEmpty()) {
            return systemPrompt;
        }
        return systemPrompt == null || systemPrompt.isBlank() ? config.addendum()
                : systemPrompt + "\n\n" + config.addendum();
    }

    /** What the reply starts with: resources at level 3 and 4, then the disclosure on a first reply. */
    public String prefix(Screening s) {
        StringBuilder b = new StringBuilder();
        if (s.assessment().level().atLeast(org.therapeia.safety.Level.HIGH)) {
            b.append(CrisisText.block(s.resources(), s.assessment())).append("\n\n");
        }
        if (s.firstReply()) {
            config.disclosure().ifPresent(d -> b.append(d).append("\n\n"));
        }
        return b.toString();
    }

    /** What the reply ends with: resources at level 2. */
    public String suffix(Screening s) {
        Assessment a = s.assessment();
        return a.isRisk() && !a.level().atLeast(org.therapeia.safety.Level.HIGH)
                ? "\n\n" + CrisisText.block(s.resources(), a) : "";
    }

    /** Whether the model's reply must be checked for method, dose or lethality content. */
    public boolean checksOutput(Screening s) {
        return s.atRisk();
    }

    /** Whether a reply gives method, dose or lethality details; a failed check counts as yes. */
    public boolean mentionsMethod(String reply) {
        try {
            return assessor.mentionsMethod(reply);
        } catch (RuntimeException | StackOverflowError e) {
            metrics.detectorError();
            return true;
        }
    }

    public String fallback() {
        return config.fallback();
    }

    /** Streams a reply's pieces through the output check at level 2 or more. */
    public GuardedPieces guard(java.util.function.Consumer<String> downstream) {
        return new GuardedPieces(downstream, this::mentionsMethod);
    }

    /** Records a reply: metrics, an audit record for any signal, the webhook at level 3 or more. */
    public void replied(Screening s, boolean replaced, boolean cacheHit, String modelId) {
        record(s, true, replaced, cacheHit, modelId);
    }

    /**
     * Records a graded request that got no reply: refused after grading (a prompt too long, a full
     * queue), a failed or timed-out generation, or a client that left. The signal still counts and
     * is audited ({@code no_reply}), and at level 3 or more the operator still hears of it: a
     * person who closed the app mid-reply may need help most. No referral is counted: the
     * resources may never have reached the person.
     */
    public void unanswered(Screening s, String modelId) {
        record(s, false, false, false, modelId);
    }

    private void record(Screening s, boolean answered, boolean replaced, boolean cacheHit, String modelId) {
        Assessment a = s.assessment();
        if (a.level() == org.therapeia.safety.Level.NONE) {
            return;
        }
        List<Category> categories = a.categories().isEmpty() ? List.of(Category.SUICIDE) : a.categories();
        if (!a.detectorFailed()) {
            categories.forEach(c -> metrics.signal(a.level(), c));
        }
        List<String> actions = new ArrayList<>();
        if (a.isRisk()) {
            actions.add("cache_bypass");
            if (answered) {
                metrics.referral();
                actions.add(a.level().atLeast(org.therapeia.safety.Level.HIGH) ? "resources_first"
                        : "resources_appended");
            }
            if (!config.addendum().isEmpty()) {
                actions.add("prompt_addendum");
            }
            if (answered) {
                actions.add("output_checked");
            }
        } else if (cacheHit) {
            actions.add("cache_hit");
        }
        if (!answered) {
            actions.add("no_reply");
        }
        if (replaced) {
            metrics.replaced();
            actions.add("output_replaced");
        }
        boolean notify = webhook != null && a.level().atLeast(org.therapeia.safety.Level.HIGH);
        if (notify) {
            actions.add("webhook");
        }
        SafetyEvent event = new SafetyEvent(s.eventId(), Instant.now(), a, s.detector(), assessor.detectorVersion(),
                actions, s.resources().locale(), modelId);
        SafetyAudit.record(event);
        if (notify) {
            webhook.send(event);
        }
    }

    /** {@code metadata.safety} of the reply. */
    public SafetyReport report(Screening s) {
        Assessment a = s.assessment();
        List<SafetyReport.Resource> resources = new ArrayList<>();
        if (a.isRisk()) {
            Optional<CrisisResource> emergency = s.resources().emergency();
            List<CrisisResource> ordered = new ArrayList<>();
            if (a.level().atLeast(org.therapeia.safety.Level.IMMINENT)) {
                emergency.ifPresent(ordered::add);
                ordered.addAll(s.resources().lines());
            } else {
                ordered.addAll(s.resources().lines());
                emergency.ifPresent(ordered::add);
            }
            ordered.forEach(r -> resources.add(new SafetyReport.Resource(r.name(), r.phone(), r.sms(), r.url())));
        }
        return new SafetyReport(a.level().value(), a.level().label(),
                a.categories().stream().map(Category::id).toList(), resources);
    }

    private ThreadFactory threads() {
        return managedThreadFactory != null ? managedThreadFactory : Thread::new;
    }

    private Executor executor() {
        return managedExecutor != null ? managedExecutor : ForkJoinPool.commonPool();
    }
}
