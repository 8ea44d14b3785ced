package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/v1/inference/stream}: server-sent events whose pieces are whole characters and
 * make the plain endpoint's reply, problems before the stream starts, and a client that leaves
 * mid-stream freeing its engine slot.
 */
@Order(7)
class StreamingIT extends RunningService {

    private static final String STREAM = "api/v1/inference/stream";

    /** One server-sent event: its name and its data (a JSON object here). */
    record Event(String name, JsonObject data) {
    }

    record Stream(int status, String contentType, List<Event> events, String body) {

        String text() {
            StringBuilder text = new StringBuilder();
            events.stream().filter(e -> e.name().equals("token")).forEach(e -> text.append(e.data().getString("text")));
            return text.toString();
        }

        Event last() {
            return events.get(events.size() - 1);
        }
    }

    private Stream stream(JsonObject request) {
        HttpRequest post = HttpRequest.newBuilder(api.base().resolve(STREAM)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .header("X-API-Key", ServerFiles.apiKey())
                .POST(HttpRequest.BodyPublishers.ofString(request.toString(), StandardCharsets.UTF_8)).build();
        try {
            HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(post, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            String type = r.headers().firstValue("Content-Type").orElse("");
            return new Stream(r.statusCode(), type, type.startsWith("text/event-stream") ? parse(r.body()) : List.of(),
                    r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Events as the SSE format writes them: "event:" and "data:" lines, a blank line between events. */
    private static List<Event> parse(String body) {
        List<Event> events = new ArrayList<>();
        String name = "message";
        StringBuilder data = new StringBuilder();
        for (String line : body.split("\n", -1)) {
            if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                data.append(data.length() > 0 ? "\n" : "").append(line.substring(line.startsWith("data: ") ? 6 : 5));
            } else if (line.isEmpty() && data.length() > 0) {
                events.add(new Event(name, Json.createReader(new StringReader(data.toString())).readObject()));
                name = "message";
                data.setLength(0);
            }
        }
        return events;
    }

    @Test
    void piecesAreWholeCharactersAndMakeThePlainEndpointsReply() {
        // sampled with a seed: as repeatable as greedy
        JsonObject request = Api.object("user_input", "Can you stream your reply to me?", "use_cache", false,
                "temperature", 0.9, "seed", 11, "max_new_tokens", 60).build();
        Stream s = stream(request);
        assertEquals(200, s.status(), s::toString);
        assertTrue(s.contentType().startsWith("text/event-stream"), s::toString);
        assertEquals("done", s.last().name(), s::toString);
        assertTrue(s.events().stream().filter(e -> e.name().equals("token")).count() >= 1, s::toString);
        JsonObject done = s.last().data();
        assertFalse(done.getString("response").isEmpty(), "a reply with text: " + done);
        assertEquals(done.getString("response"), s.text(), "the pieces concatenate to the reply");
        s.events().stream().filter(e -> e.name().equals("token"))
                .forEach(e -> ReadableText.assertWholeCharacters(e.data().getString("text")));
        ReadableText.assertWords(s.text());
        assertFalse(done.getBoolean("cache_hit"));

        JsonObject plain = api.inferOk(request);
        assertEquals(plain.getString("response"), done.getString("response"), "same reply as the plain endpoint");
        assertEquals(plain.getInt("tokens_generated"), done.getInt("tokens_generated"));
    }

    @Test
    void aCachedReplyStreamsInOnePiece() {
        JsonObject request = Api.object("user_input", "Streaming from the cache.", "use_cache", true,
                "temperature", 0.9, "seed", 5, "max_new_tokens", 16).build();
        Stream first = stream(request);
        Stream second = stream(request);
        assertEquals("done", second.last().name(), second::toString);
        assertTrue(second.last().data().getBoolean("cache_hit"), second::toString);
        assertEquals(first.last().data().getString("response"), second.text());
        ReadableText.assertWords(second.text());
        assertEquals(2, second.events().size(), "one token event, then done: " + second);
    }

    @Test
    void badInputIsAProblemNotAStream() {
        Stream s = stream(Api.object("user_input", "", "use_cache", false).build());
        assertEquals(400, s.status(), s::toString);
        assertTrue(s.contentType().startsWith("application/problem+json"), s::toString);
        JsonObject problem = Json.createReader(new StringReader(s.body())).readObject();
        assertEquals("user_input", problem.getString("field"), s::toString);
        assertEquals(200, stream(Api.object("user_input", "Still there?", "max_new_tokens", 4).build()).status());
    }

    /**
     * A client that reads the first piece and hangs up: the server notices at its next writes and
     * cancels the generation, so the engine stops well before the reply's full length (measured
     * first with the same greedy request on the plain endpoint). The trained default model ends its
     * replies after a few dozen tokens, too soon to leave in the middle, so this runs on a node of its
     * own with the random-weight model, whose greedy reply runs to max_new_tokens. It writes the
     * whole reply in well under a second, so a test machine that stalls the client for that long lets the
     * reply finish first: up to three departures are tried, and one must be noticed. Without
     * cancellation every one of them runs to the full length.
     */
    @Test
    void aClientThatLeavesFreesItsSlot() throws Exception {
        Path dir = ServerFiles.path("therapeia.it.dir").resolve("client-departure");
        ServerFiles.deleteTree(dir);
        try (PayaraMicroNode node = PayaraMicroNode.start("client-departure", dir,
                List.of("-Dmodel.path=" + ServerFiles.randomModel()))) {
            node.await("health/ready", r -> r.status() == 200, Duration.ofMinutes(3));
            Api random = node.api;
            JsonObject request = Api.object("user_input", "Tell me a very long story.", "use_cache", false,
                    "temperature", 0.0, "max_new_tokens", 1024).build();
            int fullLength = random.inferOk(request).getInt("tokens_generated");
            assertTrue(fullLength >= 1000, "the reply runs long enough to leave in the middle: " + fullLength);

            List<String> attempts = new ArrayList<>();
            boolean stoppedEarly = false;
            for (int attempt = 0; attempt < 3 && !stoppedEarly; attempt++) {
                Map<String, Double> before = random.prometheus();
                leaveAfterTheFirstEvent(random, request);
                Map<String, Double> after = awaitNoRunningSequence(random);
                double abandoned = Api.sample(after, "therapeia_requests_abandoned_total")
                        - Api.sample(before, "therapeia_requests_abandoned_total");
                double generated = Api.sample(after, "therapeia_tokens_generated_total")
                        - Api.sample(before, "therapeia_tokens_generated_total");
                attempts.add("abandoned +" + abandoned + ", " + generated + " of " + fullLength + " tokens");
                stoppedEarly = abandoned == 1.0 && generated < fullLength;
            }
            assertTrue(stoppedEarly, "the engine stopped early after the client left: " + attempts);
            assertEquals(200, random.infer(Api.object("user_input", "Next one.", "max_new_tokens", 4).build())
                    .status());
        }
    }

    /** Sends {@code request} to the streaming endpoint on a raw socket and closes it after the first event. */
    private static void leaveAfterTheFirstEvent(Api service, JsonObject request) throws IOException {
        URI uri = service.base();
        byte[] body = request.toString().getBytes(StandardCharsets.UTF_8);
        StringBuilder headers = new StringBuilder();
        service.keyHeader().forEach((name, value) -> headers.append(name).append(": ").append(value).append("\r\n"));
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /" + STREAM + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAccept: text/event-stream\r\n"
                    + headers + "Content-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null && !line.startsWith(":") && !line.startsWith("event:");
                    line = in.readLine()) {
                // the headers, up to the first event or comment
            }
        }
    }

    private static Map<String, Double> awaitNoRunningSequence(Api service) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Map<String, Double> metrics = service.prometheus();
        while (Api.sample(metrics, "therapeia_running_sequences") > 0 && System.nanoTime() < deadline) {
            Api.sleep(20);
            metrics = service.prometheus();
        }
        assertEquals(0.0, Api.sample(metrics, "therapeia_running_sequences"), "running sequences back to zero");
        return metrics;
    }
}
