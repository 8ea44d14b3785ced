package org.therapeia.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import org.therapeia.api.Problem;

/**
 * Answers 405 (with {@code Allow}) to any method but GET, HEAD and OPTIONS on the server's own
 * read-only endpoints, MicroProfile Health, Metrics and OpenAPI. Payara serves them with servlets
 * that answer 501 to a method the Servlet API does not know (PATCH, or an invented one): a server
 * error for what is the client's mistake. Our JAX-RS endpoints already answer 405 themselves.
 */
@WebFilter(urlPatterns = {"/health", "/health/*", "/metrics", "/metrics/*", "/openapi", "/openapi/*"})
public class ReadOnlyEndpointFilter extends HttpFilter {

    static final String ALLOW = "GET, HEAD, OPTIONS";
    private static final Set<String> ALLOWED = Set.of("GET", "HEAD", "OPTIONS");

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (ALLOWED.contains(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        response.setHeader("Allow", ALLOW);
        ServletProblems.send(response, Problem.of("http-405", "Method Not Allowed", 405,
                "this endpoint allows " + ALLOW, null));
    }
}
