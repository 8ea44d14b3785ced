package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.TimeoutHandler;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ContextResolver;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.MessageBodyReader;
import jakarta.ws.rs.ext.MessageBodyWriter;
import jakarta.ws.rs.ext.Providers;
import java.io.StringReader;
import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.therapeia.inference.GenerationTimeoutException;
import org.therapeia.inference.InferenceService;
import org.therapeia.inference.QueueFullException;

/**
 * The reply plumbing both plain endpoints share, with stand-ins for the container: a suspended
 * response that records how it was resumed, the real exception mapper over a request path that can
 * stop being readable (as it does once the request's thread has moved on), and the real count of
 * replies in flight.
 */
class PlainRepliesTest {

    private static final Duration DEADLINE = Duration.ofSeconds(35);

    private final RepliesInFlight inFlight = new RepliesInFlight();
    private final PlainReplies replies = new PlainReplies(inFlight, new InferenceService() {
        @Override
        public Duration replyDeadline() {
            return DEADLINE;
        }
    });
    /** The request path the mapper sees; null: outside the request's context (IllegalStateException). */
    private final AtomicReference<String> path = new AtomicReference<>();
    private final RecordingResponse response = new RecordingResponse();

    private Providers providers() {
        ProblemMapper mapper = new ProblemMapper();
        mapper.uri = (UriInfo) Proxy.newProxyInstance(UriInfo.class.getClassLoader(), new Class<?>[] {UriInfo.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("getPath")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    String p = path.get();
                    if (p == null) {
                        throw new IllegalStateException("not inside a request scope");
                    }
                    return p;
                });
        return new OnlyAnExceptionMapper(mapper);
    }

    private boolean noneInFlight() throws InterruptedException {
        return inFlight.awaitNone(Duration.ZERO);
    }

    @Test
    void aReplyIsAnsweredAsTheEndpointRendersIt() throws Exception {
        path.set("api/v1/inference");
        CompletableFuture<String> pending = new CompletableFuture<>();
        replies.answer(response, providers(), () -> pending, reply -> "rendered " + reply);
        assertEquals(DEADLINE.toMillis(), response.timeoutMillis, "a deadline of its own");
        assertFalse(response.isDone());
        assertFalse(noneInFlight(), "counted until written");
        pending.complete("reply");
        assertEquals("rendered reply", response.resumed);
        assertTrue(noneInFlight());
    }

    @Test
    void aLaterFailureOfAnOpenAiRequestIsOpenAisErrorBodyEvenOutsideTheRequestsContext() throws Exception {
        path.set("v1/chat/completions");
        CompletableFuture<String> pending = new CompletableFuture<>();
        replies.answer(response, providers(), () -> pending, reply -> reply);
        path.set(null); // the generation completes on another thread, where the request's path is out of reach
        pending.completeExceptionally(new QueueFullException(64));
        Response answer = assertInstanceOf(Response.class, response.resumed);
        assertEquals(503, answer.getStatus());
        assertEquals("1", answer.getHeaderString("Retry-After"));
        assertEquals(MediaType.APPLICATION_JSON_TYPE, answer.getMediaType());
        JsonObject error = Json.createReader(new StringReader((String) answer.getEntity())).readObject()
                .getJsonObject("error");
        assertEquals("queue_full", error.getString("code"));
        assertTrue(noneInFlight());
    }

    @Test
    void aLaterFailureOfASeedRequestIsAProblem() throws Exception {
        path.set("api/v1/inference");
        CompletableFuture<String> pending = new CompletableFuture<>();
        replies.answer(response, providers(), () -> pending, reply -> reply);
        path.set(null);
        pending.completeExceptionally(new GenerationTimeoutException(Duration.ofSeconds(30)));
        Response answer = assertInstanceOf(Response.class, response.resumed);
        assertEquals(504, answer.getStatus());
        assertEquals(Problem.MEDIA_TYPE_TYPE, answer.getMediaType());
        assertEquals(504, assertInstanceOf(Problem.class, answer.getEntity()).status());
        assertTrue(noneInFlight());
    }

    @Test
    void aRefusalBeforeTheGenerationIsAnsweredAtOnce() throws Exception {
        path.set("v1/chat/completions");
        InvalidRequestException refusal = new InvalidRequestException("temperature", "too hot");
        replies.answer(response, providers(), () -> {
            throw refusal;
        }, reply -> reply);
        assertSame(refusal, response.resumed, "resumed with the refusal: JAX-RS maps it on the request's thread");
        assertTrue(noneInFlight());
    }

    @Test
    void theDeadlineAnswers504AndGivesTheGenerationUp() throws Exception {
        path.set("v1/chat/completions");
        CompletableFuture<String> pending = new CompletableFuture<>();
        replies.answer(response, providers(), () -> pending, reply -> reply);
        path.set(null); // the container's timer thread
        response.timeoutHandler.handleTimeout(response);
        Response answer = assertInstanceOf(Response.class, response.resumed);
        assertEquals(504, answer.getStatus());
        assertTrue(((String) answer.getEntity()).contains("\"code\":\"timeout\""), answer.getEntity()::toString);
        assertTrue(pending.isCancelled(), "the generation is given up");
        assertEquals(1, response.resumes, "the cancellation does not answer again");
        assertTrue(noneInFlight());
    }

    /** A suspended response that records its first resumption (later ones are refused, as JAX-RS does). */
    private static final class RecordingResponse implements AsyncResponse {
        Object resumed;
        int resumes;
        long timeoutMillis;
        TimeoutHandler timeoutHandler;

        @Override
        public synchronized boolean resume(Object answer) {
            if (resumes > 0) {
                return false;
            }
            resumes++;
            resumed = answer;
            return true;
        }

        @Override
        public boolean resume(Throwable answer) {
            return resume((Object) answer);
        }

        @Override
        public boolean cancel() {
            return false;
        }

        @Override
        public boolean cancel(int retryAfter) {
            return false;
        }

        @Override
        public boolean cancel(Date retryAfter) {
            return false;
        }

        @Override
        public synchronized boolean isSuspended() {
            return resumes == 0;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public synchronized boolean isDone() {
            return resumes > 0;
        }

        @Override
        public boolean setTimeout(long time, TimeUnit unit) {
            timeoutMillis = unit.toMillis(time);
            return true;
        }

        @Override
        public void setTimeoutHandler(TimeoutHandler handler) {
            timeoutHandler = handler;
        }

        @Override
        public Collection<Class<?>> register(Class<?> callback) {
            return List.of();
        }

        @Override
        public Map<Class<?>, Collection<Class<?>>> register(Class<?> callback, Class<?>... callbacks) {
            return Map.of();
        }

        @Override
        public Collection<Class<?>> register(Object callback) {
            return List.of();
        }

        @Override
        public Map<Class<?>, Collection<Class<?>>> register(Object callback, Object... callbacks) {
            return Map.of();
        }
    }

    /** The providers of a request, as far as the exception mapper goes. */
    private record OnlyAnExceptionMapper(ProblemMapper mapper) implements Providers {
        @Override
        public <T> MessageBodyReader<T> getMessageBodyReader(Class<T> type, Type genericType,
                                                             Annotation[] annotations, MediaType mediaType) {
            return null;
        }

        @Override
        public <T> MessageBodyWriter<T> getMessageBodyWriter(Class<T> type, Type genericType,
                                                             Annotation[] annotations, MediaType mediaType) {
            return null;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T extends Throwable> ExceptionMapper<T> getExceptionMapper(Class<T> type) {
            return (ExceptionMapper<T>) mapper;
        }

        @Override
        public <T> ContextResolver<T> getContextResolver(Class<T> contextType, MediaType mediaType) {
            return null;
        }
    }
}
