package org.therapeia.benchmark;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jakarta.json.Json;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the service's HTTP contract on loopback, for checking the client end to end: a
 * response cache keyed on the whole request, a fixed engine time, request number
 * {@code failEvery} (and its multiples) answered 503 with Retry-After, readiness DOWN for the
 * first {@code notReadyPolls} polls, and an admin token for the cache clear. Both APIs: the
 * seed's, and OpenAI's {@code /v1/models} and {@code /v1/chat/completions} (plain and streamed),
 * whose cache key includes the {@code seed}, as the real one's does.
 *
 * <p>Replies carry on a conversation as a prefix-caching service would: the reply after k earlier
 * exchanges is {@link #replyAfter}(k); the prompt counts {@link #SYSTEM_TOKENS} for a system prompt
 * and {@link #MESSAGE_TOKENS} per message, and all of it but the new message counts as reused
 * (the previous turn's prompt and reply). A history whose replies are not the ones this service
 * gave counts in {@link #historyMismatches}.
 */
final class FakeTherapeiaService implements AutoCloseable {

    static final String ADMIN_TOKEN = "test-admin-token";
    static final String API_KEY = "test-api-key";
    static final int TOKENS = 12;
    static final double GENERATION_SECONDS = 0.004;
    static final String MODEL = "fake-model";
    static final int SYSTEM_TOKENS = 20;
    static final int MESSAGE_TOKENS = 10;
    static final double TIME_TO_FIRST_TOKEN = 0.002;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(8);
    private final Set<String> cache = ConcurrentHashMap.newKeySet();
    private final int failEvery;
    private final AtomicInteger readyPolls = new AtomicInteger();
    private final int notReadyPolls;
    private volatile boolean requireApiKey;

    final AtomicInteger inference = new AtomicInteger();
    final AtomicInteger streamed = new AtomicInteger();
    final AtomicInteger hits = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger clears = new AtomicInteger();
    final AtomicInteger maxNewTokensSeen = new AtomicInteger(-1);
    final AtomicInteger chatCompletions = new AtomicInteger();
    final Set<Long> seedsSeen = ConcurrentHashMap.newKeySet();
    final AtomicInteger historyMismatches = new AtomicInteger();
    final AtomicInteger withSystemPrompt = new AtomicInteger();
    final AtomicInteger greedy = new AtomicInteger();
    final AtomicInteger longestHistory = new AtomicInteger();

    FakeTherapeiaService(int failEvery, int notReadyPolls) throws IOException {
        this.failEvery = failEvery;
        this.notReadyPolls = notReadyPolls;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(executor);
        server.createContext("/api/v1/inference", this::infer);
        server.createContext("/api/v1/inference/stream", this::stream);
        server.createContext("/api/v1/cache/clear", this::clear);
        server.createContext("/health/ready", this::ready);
        server.createContext("/v1/models", this::models);
        server.createContext("/v1/chat/completions", this::chatCompletion);
        server.start();
    }

    /** From now on, inference requests without {@link #API_KEY} in X-API-Key are 401, as with api.key set. */
    void requireApiKey() {
        requireApiKey = true;
    }

    URI url() {
        return URI.create("http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort());
    }

    private void infer(HttpExchange exchange) throws IOException {
        long arrival = System.nanoTime();
        if (!"POST".equals(exchange.getRequestMethod())) {
            send(exchange, 405, "{}", null);
            return;
        }
        String body = read(exchange.getRequestBody());
        if (requireApiKey && !API_KEY.equals(exchange.getRequestHeaders().getFirst("X-API-Key"))) {
            send(exchange, 401, "{\"type\":\"unauthorized\",\"status\":401}", null);
            return;
        }
        int n = inference.incrementAndGet();
        if (failEvery > 0 && n % failEvery == 0) {
            refused.incrementAndGet();
            send(exchange, 503, "{\"type\":\"queue-full\",\"status\":503}", "1");
            return;
        }
        JsonObject request = Json.createReader(new StringReader(body)).readObject();
        if (request.containsKey("max_new_tokens")) {
            maxNewTokensSeen.set(request.getInt("max_new_tokens"));
        }
        // the real key is a hash of the normalised request; the request's whole text stands in here
        String key = request.getString("user_input") + request.getJsonArray("conversation_history");
        boolean useCache = request.getBoolean("use_cache", true);
        boolean hit = useCache && cache.contains(key);
        if (hit) {
            hits.incrementAndGet();
        } else {
            sleep(GENERATION_SECONDS);
            if (useCache) {
                cache.add(key);
            }
        }
        double latency = (System.nanoTime() - arrival) / 1e9;
        send(exchange, 200, seedReply(request, latency, hit), null);
    }

    /** The seed's reply object to {@code request}. */
    private String seedReply(JsonObject request, double latency, boolean hit) {
        Turn turn = turn(request.getJsonArray("conversation_history"), request.containsKey("system_prompt"),
                request);
        return String.format(Locale.ROOT, "{\"response\":\"%s\",\"latency\":%.6f,\"cache_hit\":%s,"
                + "\"tokens_generated\":%d,\"metadata\":{\"generation_time\":%s,\"input_tokens\":%d,"
                + "\"input_tokens_reused\":%d,\"time_to_first_token\":%s,\"queue_time\":0.001}}", turn.reply(),
                latency, hit, TOKENS, hit ? "0" : Double.toString(GENERATION_SECONDS), turn.promptTokens(),
                turn.reusedTokens(), TIME_TO_FIRST_TOKEN);
    }

    /** What the service answers after {@code earlier} exchanges of a conversation. */
    static String replyAfter(int earlier) {
        return "I hear you, turn " + (earlier + 1) + ".";
    }

    private record Turn(String reply, int promptTokens, int reusedTokens) {
    }

    /** Checks the history's replies, counts the prompt, and says what to answer. */
    private Turn turn(List<JsonValue> history, boolean systemPrompt, JsonObject request) {
        if (systemPrompt) {
            withSystemPrompt.incrementAndGet();
        }
        if (request.get("temperature") instanceof JsonNumber t && t.doubleValue() == 0) {
            greedy.incrementAndGet();
        }
        longestHistory.accumulateAndGet(history.size(), Math::max);
        for (int k = 0; 2 * k + 1 < history.size(); k++) {
            JsonObject user = history.get(2 * k).asJsonObject();
            JsonObject assistant = history.get(2 * k + 1).asJsonObject();
            if (!"user".equals(user.getString("role")) || !"assistant".equals(assistant.getString("role"))
                    || !replyAfter(k).equals(assistant.getString("content"))) {
                historyMismatches.incrementAndGet();
            }
        }
        int system = systemPrompt ? SYSTEM_TOKENS : 0;
        int prompt = system + MESSAGE_TOKENS * (history.size() + 1);
        return new Turn(replyAfter(history.size() / 2), prompt, history.isEmpty() ? 0 : prompt - MESSAGE_TOKENS);
    }

    /** Two token events, then a done event with the plain endpoint's reply. */
    private void stream(HttpExchange exchange) throws IOException {
        JsonObject request = Json.createReader(new StringReader(read(exchange.getRequestBody()))).readObject();
        inference.incrementAndGet();
        streamed.incrementAndGet();
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            String events = ":\n\nevent: token\ndata: {\"text\":\"I hear\"}\n\nevent: token\ndata: {\"text\":\" you.\"}\n\n"
                    + "event: done\ndata: " + seedReply(request, 0.004, false) + "\n\n";
            out.write(events.getBytes(StandardCharsets.UTF_8));
        }
    }

    private boolean refusedWithoutBearer(HttpExchange exchange) throws IOException {
        if (requireApiKey && !("Bearer " + API_KEY).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            send(exchange, 401, "{\"error\":{\"message\":\"key\",\"type\":\"authentication_error\","
                    + "\"param\":null,\"code\":\"invalid_api_key\"}}", null);
            return true;
        }
        return false;
    }

    private void models(HttpExchange exchange) throws IOException {
        if (refusedWithoutBearer(exchange)) {
            return;
        }
        send(exchange, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"" + MODEL + "\",\"object\":\"model\","
                + "\"created\":1,\"owned_by\":\"therapeia\"}]}", null);
    }

    /** OpenAI's chat completion: the same cache and failures as the seed's endpoint, OpenAI's framing. */
    private void chatCompletion(HttpExchange exchange) throws IOException {
        String body = read(exchange.getRequestBody());
        if (refusedWithoutBearer(exchange)) {
            return;
        }
        JsonObject request = Json.createReader(new StringReader(body)).readObject();
        if (!MODEL.equals(request.getString("model", null))) {
            send(exchange, 404, "{\"error\":{\"message\":\"no\",\"type\":\"not_found_error\","
                    + "\"param\":\"model\",\"code\":\"model_not_found\"}}", null);
            return;
        }
        int n = inference.incrementAndGet();
        chatCompletions.incrementAndGet();
        if (failEvery > 0 && n % failEvery == 0) {
            refused.incrementAndGet();
            send(exchange, 503, "{\"error\":{\"message\":\"busy\",\"type\":\"service_unavailable_error\","
                    + "\"param\":null,\"code\":\"queue_full\"}}", "1");
            return;
        }
        if (request.containsKey("max_completion_tokens")) {
            maxNewTokensSeen.set(request.getInt("max_completion_tokens"));
        }
        if (request.containsKey("seed")) {
            seedsSeen.add(request.getJsonNumber("seed").longValue());
        }
        List<JsonValue> messages = request.getJsonArray("messages");
        boolean systemPrompt = "system".equals(messages.get(0).asJsonObject().getString("role"));
        Turn turn = turn(messages.subList(systemPrompt ? 1 : 0, messages.size() - 1), systemPrompt, request);
        String key = request.getJsonArray("messages") + "|" + request.get("seed");
        if (cache.contains(key)) {
            hits.incrementAndGet();
        } else {
            sleep(GENERATION_SECONDS);
            cache.add(key);
        }
        String head = "{\"id\":\"chatcmpl-1\",\"created\":1,\"model\":\"" + MODEL + "\",";
        String usage = "\"usage\":{\"prompt_tokens\":" + turn.promptTokens() + ",\"completion_tokens\":" + TOKENS
                + ",\"total_tokens\":" + (turn.promptTokens() + TOKENS) + ",\"prompt_tokens_details\":{\"cached_tokens\":"
                + turn.reusedTokens() + "}}";
        if (!request.getBoolean("stream", false)) {
            send(exchange, 200, head + "\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
                    + "{\"role\":\"assistant\",\"content\":\"" + turn.reply() + "\"},\"finish_reason\":\"stop\"}]," + usage
                    + "}", null);
            return;
        }
        streamed.incrementAndGet();
        String chunk = head + "\"object\":\"chat.completion.chunk\",";
        StringBuilder events = new StringBuilder();
        String rest = turn.reply().substring("I hear".length());
        for (String delta : new String[] {"{\"role\":\"assistant\"}", "{\"content\":\"I hear\"}",
                "{\"content\":\"" + rest + "\"}"}) {
            events.append("data: ").append(chunk).append("\"choices\":[{\"index\":0,\"delta\":").append(delta)
                    .append(",\"finish_reason\":null}]}\n\n");
        }
        events.append("data: ").append(chunk).append("\"choices\":[{\"index\":0,\"delta\":{},"
                + "\"finish_reason\":\"stop\"}]}\n\n");
        if (request.getJsonObject("stream_options") != null
                && request.getJsonObject("stream_options").getBoolean("include_usage", false)) {
            events.append("data: ").append(chunk).append("\"choices\":[],").append(usage).append("}\n\n");
        }
        events.append("data: [DONE]\n\n");
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(events.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private void clear(HttpExchange exchange) throws IOException {
        if (!ADMIN_TOKEN.equals(exchange.getRequestHeaders().getFirst("X-Admin-Token"))) {
            send(exchange, 401, "{}", null);
            return;
        }
        cache.clear();
        clears.incrementAndGet();
        send(exchange, 200, "{\"status\":\"cleared\"}", null);
    }

    private void ready(HttpExchange exchange) throws IOException {
        boolean up = readyPolls.incrementAndGet() > notReadyPolls;
        send(exchange, up ? 200 : 503, "{\"status\":\"" + (up ? "UP" : "DOWN") + "\"}", null);
    }

    private static void send(HttpExchange exchange, int status, String body, String retryAfter) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (retryAfter != null) {
            exchange.getResponseHeaders().set("Retry-After", retryAfter);
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String read(InputStream in) throws IOException {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void sleep(double seconds) {
        try {
            Thread.sleep(Math.round(seconds * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
