package org.therapeia.api;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

/**
 * OpenAI's error body, {@code {"error": {"message", "type", "param", "code"}}}, rendered from the
 * problem that {@link ProblemMapper} decided: the same status, headers ({@code Retry-After},
 * {@code WWW-Authenticate}) and field, in the shape every OpenAI client reads. {@code param} is the
 * field at fault ({@code messages} where the seed's problem names its own conversation fields);
 * {@code type} follows the HTTP status as OpenAI's does; {@code code} is a string identifier or null.
 */
public final class OpenAiError {

    /** The path prefix, relative to the application, of the OpenAI-compatible API. */
    public static final String PATH_PREFIX = "v1/";

    private OpenAiError() {
    }

    /** Whether the request being answered is one of the OpenAI-compatible API's. */
    public static boolean isOpenAiPath(UriInfo uri) {
        try {
            return uri != null && uri.getPath(false).replaceFirst("^/", "").startsWith(PATH_PREFIX);
        } catch (IllegalStateException | NullPointerException outsideARequest) {
            return false;
        }
    }

    /** {@code problem} (a {@link ProblemMapper} response) with OpenAI's error body instead. */
    public static Response response(Response problem) {
        Problem p = (Problem) problem.getEntity();
        Response.ResponseBuilder out = Response.fromResponse(problem).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(body(p).toString());
        return out.build();
    }

    /** The error body for {@code problem}: also the data of a stream's error event. */
    public static JsonObject body(Problem problem) {
        JsonObjectBuilder error = Json.createObjectBuilder()
                .add("message", problem.detail() == null ? problem.title() : problem.detail())
                .add("type", type(problem.status()));
        String param = param(problem.field());
        if (param == null) {
            error.addNull("param");
        } else {
            error.add("param", param);
        }
        String code = code(problem);
        if (code == null) {
            error.addNull("code");
        } else {
            error.add("code", code);
        }
        return Json.createObjectBuilder().add("error", error).build();
    }

    private static String type(int status) {
        return switch (status) {
            case 400, 415 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 405 -> "invalid_request_error";
            case 429 -> "rate_limit_error";
            case 503 -> "service_unavailable_error";
            case 504 -> "timeout_error";
            default -> "server_error";
        };
    }

    /** The seed's conversation fields are the messages here. */
    private static String param(String field) {
        if (field == null) {
            return null;
        }
        if (field.equals("user_input") || field.equals("system_prompt")
                || field.startsWith("conversation_history")) {
            return "messages";
        }
        return field;
    }

    private static String code(Problem problem) {
        String slug = problem.type().substring(problem.type().lastIndexOf(':') + 1);
        return switch (slug) {
            case "model-not-found" -> "model_not_found";
            case "prompt-too-long" -> "context_length_exceeded";
            case "unauthorized" -> "invalid_api_key";
            case "invalid-request" -> "invalid_value";
            default -> slug.replace('-', '_');
        };
    }
}
