package org.therapeia.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;

/**
 * {@code GET /openapi} with {@code Accept: application/yaml} answers the YAML document as
 * {@code application/yaml} (RFC 9512). Payara's OpenAPI endpoint writes YAML only as
 * {@code text/plain} and answers 406 to the YAML media types. When a client prefers a YAML type
 * (also the older {@code text/yaml}, {@code application/x-yaml}, {@code text/x-yaml}) at least as
 * much as JSON, the request goes on asking for {@code text/plain} and the YAML reply is labelled with
 * the type the client asked for. Every other request (JSON, text/plain, no Accept, a wildcard)
 * passes unchanged: YAML as {@code text/plain} by default, JSON for {@code application/json}.
 */
@WebFilter(urlPatterns = {"/openapi", "/openapi/*"})
public class OpenApiYamlFilter extends HttpFilter {

    private static final List<String> YAML_TYPES = List.of("application/yaml", "text/yaml", "application/x-yaml",
            "text/x-yaml");
    private static final String PAYARA_YAML = "text/plain";

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String yaml = request.getMethod().equals("GET") || request.getMethod().equals("HEAD")
                ? preferredYaml(request.getHeader("Accept")) : null;
        if (yaml == null) {
            chain.doFilter(request, response);
            return;
        }
        chain.doFilter(new AcceptingPlainText(request), new LabelledYaml(response, yaml));
    }

    /**
     * The YAML type {@code accept} names with the highest quality, when that quality is above 0 and
     * not below application/json's; otherwise null.
     */
    static String preferredYaml(String accept) {
        if (accept == null) {
            return null;
        }
        String best = null;
        double bestQuality = 0;
        double json = 0;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].trim().toLowerCase(Locale.ROOT);
            double quality = quality(parts);
            if (YAML_TYPES.contains(type) && quality > bestQuality) {
                best = type;
                bestQuality = quality;
            } else if (type.equals("application/json")) {
                json = Math.max(json, quality);
            }
        }
        return best != null && bestQuality >= json ? best : null;
    }

    private static double quality(String[] parameters) {
        for (int i = 1; i < parameters.length; i++) {
            String[] nameValue = parameters[i].split("=", 2);
            if (nameValue.length == 2 && nameValue[0].trim().equalsIgnoreCase("q")) {
                try {
                    return Double.parseDouble(nameValue[1].trim());
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }

    /** The request as Payara's endpoint must see it to write YAML. */
    private static final class AcceptingPlainText extends HttpServletRequestWrapper {

        AcceptingPlainText(HttpServletRequest request) {
            super(request);
        }

        @Override
        public String getHeader(String name) {
            return name.equalsIgnoreCase("Accept") ? PAYARA_YAML : super.getHeader(name);
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            return name.equalsIgnoreCase("Accept") ? Collections.enumeration(List.of(PAYARA_YAML))
                    : super.getHeaders(name);
        }
    }

    /** Relabels Payara's text/plain YAML; any other content type (an error page, say) stays as it is. */
    private static final class LabelledYaml extends HttpServletResponseWrapper {

        private final String yaml;

        LabelledYaml(HttpServletResponse response, String yaml) {
            super(response);
            this.yaml = yaml;
        }

        private String label(String type) {
            return type != null && type.toLowerCase(Locale.ROOT).startsWith(PAYARA_YAML) ? yaml : type;
        }

        @Override
        public void setContentType(String type) {
            super.setContentType(label(type));
        }

        @Override
        public void setHeader(String name, String value) {
            super.setHeader(name, name.equalsIgnoreCase("Content-Type") ? label(value) : value);
        }

        @Override
        public void addHeader(String name, String value) {
            super.addHeader(name, name.equalsIgnoreCase("Content-Type") ? label(value) : value);
        }
    }
}
