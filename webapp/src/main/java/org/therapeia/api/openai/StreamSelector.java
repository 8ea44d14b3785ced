package org.therapeia.api.openai;

import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;
import java.io.ByteArrayInputStream;
import org.therapeia.api.ApiKeyFilter;
import org.therapeia.api.InvalidRequestException;
import org.therapeia.api.JsonBody;
import org.therapeia.api.SharedSecret;
import org.therapeia.config.InferenceConfig;

/**
 * Picks the method of {@link ChatCompletionsResource} from the body's {@code stream} field, as
 * OpenAI's API does (the client's {@code Accept} plays no part there): it reads the body (at most
 * {@code limits.body-bytes}), puts it back for the resource, and sets {@code Accept} to
 * {@code text/event-stream} for {@code stream: true}, else to {@code application/json}. It looks
 * at nothing else; the resource's reader validates the body. A request without the API key (when
 * one is set) is left alone, so that {@link ApiKeyFilter} refuses it before its body is parsed.
 */
@Provider
@PreMatching
public class StreamSelector implements ContainerRequestFilter {

    @Inject
    InferenceConfig config;

    @Override
    public void filter(ContainerRequestContext request) {
        if (!HttpMethod.POST.equals(request.getMethod())
                || !request.getUriInfo().getPath(false).replaceFirst("^/", "").equals("v1/chat/completions")) {
            return;
        }
        if (config.apiKey().isPresent() && !SharedSecret.matches(config.apiKey(),
                request.getHeaderString(ApiKeyFilter.HEADER), request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return;
        }
        // an oversized body is refused here (it cannot be put back); any other fault is the reader's to name
        byte[] body = JsonBody.readLimited(request.getEntityStream(), config.maxBodyBytes());
        request.setEntityStream(new ByteArrayInputStream(body));
        boolean streamed = false;
        try {
            JsonValue stream = JsonBody.parse(body).get("stream");
            streamed = stream != null && stream.getValueType() == JsonValue.ValueType.TRUE;
        } catch (InvalidRequestException refusedLater) {
            // not JSON, or not an object: the resource's reader refuses it, naming the field
        }
        request.getHeaders().putSingle(HttpHeaders.ACCEPT,
                streamed ? MediaType.SERVER_SENT_EVENTS : MediaType.APPLICATION_JSON);
    }
}
