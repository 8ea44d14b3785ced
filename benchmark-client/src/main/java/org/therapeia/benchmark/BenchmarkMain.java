package org.therapeia.benchmark;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code java -jar therapeia-benchmark.jar [options] sequential|concurrent|conversation ...}: the
 * seed's benchmark_inference, or multi-turn conversations, against a running service, over the
 * seed's API or the OpenAI-compatible one. Exit status: 0 done, 1 no request succeeded or
 * the JSON file could not be written, 2 usage error, 3 the service was not ready or refused the
 * cache clear.
 */
public final class BenchmarkMain {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int NOT_READY = 3;

    private BenchmarkMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err, System.console() != null));
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, boolean interactive) {
        BenchmarkOptions options;
        try {
            options = BenchmarkOptions.parse(args, env);
        } catch (UsageException e) {
            err.println("therapeia-benchmark: " + e.getMessage());
            err.println("run with --help for usage");
            return USAGE;
        }
        if (options == null) {
            out.print(BenchmarkOptions.USAGE);
            return OK;
        }

        InferenceClient client = new InferenceClient(options);
        if (!options.waitReady().isZero()) {
            String notReady = client.awaitReady(options.waitReady(), err);
            if (notReady != null) {
                err.println("therapeia-benchmark: " + options.endpoint(InferenceClient.READY_PATH) + " not ready after "
                        + options.waitReady().toSeconds() + " s (" + notReady + ")");
                return NOT_READY;
            }
        }
        if (options.clearCache()) {
            int status = client.clearCache(options.adminToken());
            if (status != 200) {
                err.println("therapeia-benchmark: cache clear answered " + (status == 0 ? "nothing" : "HTTP " + status)
                        + (status == 401 ? " (wrong admin token?)" : ""));
                return NOT_READY;
            }
            err.println("response cache cleared");
        }

        ServiceApi api = new SeedApi();
        String model = null;
        if (options.api() == Api.OPENAI) {
            try {
                model = options.model() != null ? options.model() : client.servedModel();
            } catch (IllegalStateException e) {
                err.println("therapeia-benchmark: " + options.endpoint(OpenAiApi.MODELS_PATH)
                        + " did not name the served model (" + e.getMessage() + ")");
                return NOT_READY;
            }
            // seeds of this run's own: a rerun must not be answered from the entries of an earlier one
            api = new OpenAiApi(model, new SecureRandom().nextLong());
        }

        ServiceApi speaking = api;
        BenchmarkRunner.Sender sender =
                input -> client.infer(speaking, input, options.useCache(), options.maxNewTokens(), options.stream());
        Progress progress = new Progress(err, options.requests(), interactive);
        String target = options.endpoint(api.path(options.stream())) + (model == null ? "" : " (model " + model + ")");
        Instant startedAt = Instant.now();
        try {
            return options.mode() == Mode.CONVERSATION
                    ? converse(options, sender, progress, target, startedAt, out, err)
                    : benchmark(options, sender, progress, target, startedAt, out, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("therapeia-benchmark: interrupted");
            return FAILED;
        }
    }

    private static int benchmark(BenchmarkOptions options, BenchmarkRunner.Sender sender, Progress progress,
            String target, Instant startedAt, PrintStream out, PrintStream err) throws InterruptedException {
        List<RequestInput> inputs = new MessagePicker(options.seed()).next(options.requests());
        err.printf("%s benchmark: %d requests%s to %s%n", options.mode().word(), options.requests(),
                options.mode() == Mode.CONCURRENT ? " at concurrency " + options.concurrency() : "", target);
        BenchmarkRunner.RunResult result = BenchmarkRunner.run(inputs, options.concurrency(), sender, progress);
        BenchmarkReport report = BenchmarkReport.of(options, inputs, result);
        out.print(ReportText.render(report));
        out.flush();
        boolean written = writeJson(options, err, file -> ReportJson.write(report, startedAt, file));
        return report.successes() > 0 && written ? OK : FAILED;
    }

    private static int converse(BenchmarkOptions options, BenchmarkRunner.Sender sender, Progress progress,
            String target, Instant startedAt, PrintStream out, PrintStream err) throws InterruptedException {
        err.printf("conversation benchmark: %d conversations x %d turns at concurrency %d to %s%n",
                options.conversations(), options.turns(), options.concurrency(), target);
        ConversationRunner.RunResult result = ConversationRunner.run(options.conversations(), options.turns(),
                options.concurrency(), sender, progress);
        ConversationReport report = ConversationReport.of(options, result);
        out.print(ConversationReportText.render(report));
        out.flush();
        boolean written = writeJson(options, err, file -> ConversationReportJson.write(report, startedAt, file));
        return report.successes() > 0 && written ? OK : FAILED;
    }

    /** Writes a report to {@code --json FILE}, if given. */
    @FunctionalInterface
    private interface JsonWriter {
        void write(Path file) throws IOException;
    }

    /** @return false when the file was asked for and could not be written */
    private static boolean writeJson(BenchmarkOptions options, PrintStream err, JsonWriter writer) {
        if (options.jsonOut() == null) {
            return true;
        }
        try {
            writer.write(options.jsonOut());
            err.println("report written to " + options.jsonOut());
            return true;
        } catch (IOException e) {
            err.println("therapeia-benchmark: cannot write " + options.jsonOut() + ": " + e.getMessage());
            return false;
        }
    }
}
