package org.therapeia.web;

import jakarta.inject.Inject;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import org.therapeia.api.ProblemMapper;
import org.therapeia.metrics.ServiceMetrics;

/**
 * Answers 415 with a problem to a request under /api/ whose {@code Content-Type} is not one concrete
 * media type: one that does not parse, which the JAX-RS servlet refuses with a bare 400 (Payara's
 * HTML error page) before any JAX-RS filter or exception mapper runs, and a wildcard, which JAX-RS
 * matching would take for JSON. It parses with JAX-RS's own parser, so that what passes here also
 * parses there. A concrete type that an endpoint does not consume ({@code @Consumes}) gets the same
 * 415 from {@link ProblemMapper}; a request without {@code Content-Type} passes (read as JSON, as the
 * seed did). Declared asynchronous, as every filter before the inference endpoints must be: they
 * suspend their requests (AsyncResponse, server-sent events).
 */
@WebFilter(urlPatterns = "/api/*", asyncSupported = true)
public class ContentTypeFilter extends HttpFilter {

    @Inject
    ServiceMetrics metrics;

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String header = request.getContentType();
        if (header == null || isConcrete(header)) {
            chain.doFilter(request, response);
            return;
        }
        metrics.error(ProblemMapper.UNSUPPORTED_MEDIA_TYPE_KIND);
        ServletProblems.send(response, ProblemMapper.UNSUPPORTED_MEDIA_TYPE);
    }

    static boolean isConcrete(String header) {
        try {
            MediaType type = MediaType.valueOf(header);
            return !type.isWildcardType() && !type.isWildcardSubtype();
        } catch (IllegalArgumentException notAMediaType) {
            return false;
        }
    }
}
