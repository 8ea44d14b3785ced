package org.therapeia.inference;

import com.hubspot.jinjava.objects.SafeString;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's {@code str} methods for Jinjava, which otherwise only sees Java's: chat templates call
 * {@code content.startswith('<tool_response>')}, {@code content.split('</think>')[-1].lstrip('\n')}
 * and the like, as jinja2 allows. Resolves calls on strings only, with Python semantics; every
 * other call falls through to the next resolver.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (method == null || !(base instanceof String || base instanceof SafeString)) {
            return null;
        }
        String s = base.toString();
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        switch (method.toString()) {
            case "startswith" -> result = startsWith(s, arg(args, 0), true);
            case "endswith" -> result = startsWith(s, arg(args, 0), false);
            case "strip" -> result = rstrip(lstrip(s, chars(args)), chars(args));
            case "lstrip" -> result = lstrip(s, chars(args));
            case "rstrip" -> result = rstrip(s, chars(args));
            case "split" -> result = split(s, args);
            case "upper" -> result = s.toUpperCase(Locale.ROOT);
            case "lower" -> result = s.toLowerCase(Locale.ROOT);
            case "title" -> result = title(s);
            case "capitalize" -> result = s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> result = args.length >= 2 ? s.replace(text(args[0]), text(args[1])) : null;
            case "find" -> result = args.length >= 1 ? s.indexOf(text(args[0])) : null;
            case "count" -> result = args.length >= 1 ? count(s, text(args[0])) : null;
            case "join" -> result = args.length >= 1 ? join(s, args[0]) : null;
            case "isspace" -> result = !s.isEmpty() && s.isBlank();
            case "isdigit" -> result = !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            default -> result = null;
        }
        if (result != null) {
            context.setPropertyResolved(true);
        }
        return result;
    }

    private static Object arg(Object[] args, int i) {
        return i < args.length ? args[i] : null;
    }

    private static String text(Object o) {
        return o == null ? "" : o.toString();
    }

    /** The strip set, or null for whitespace. */
    private static String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : args[0].toString();
    }

    private static Boolean startsWith(String s, Object prefix, boolean start) {
        if (prefix instanceof Collection<?> options) { // Python accepts a tuple of prefixes
            for (Object option : options) {
                if (start ? s.startsWith(text(option)) : s.endsWith(text(option))) {
                    return true;
                }
            }
            return false;
        }
        return start ? s.startsWith(text(prefix)) : s.endsWith(text(prefix));
    }

    private static boolean strippable(int c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && strippable(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0 && strippable(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(0, end);
    }

    static List<String> split(String s, Object[] args) {
        String sep = args.length == 0 || args[0] == null ? null : args[0].toString();
        int maxSplit = args.length >= 2 && args[1] instanceof Number n ? n.intValue() : -1;
        List<String> parts = new ArrayList<>();
        if (sep == null) { // runs of whitespace, no empty strings
            int i = 0;
            int n = s.length();
            while (i < n) {
                while (i < n && Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(rstrip(s.substring(i), null));
                    return parts;
                }
                int j = i;
                while (j < n && !Character.isWhitespace(s.charAt(j))) {
                    j++;
                }
                parts.add(s.substring(i, j));
                i = j;
            }
            return parts;
        }
        if (sep.isEmpty()) {
            throw new TemplateRaisedException("empty separator");
        }
        int from = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return out.toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1;
        }
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String separator, Object items) {
        if (!(items instanceof Iterable<?> iterable)) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (Object item : iterable) {
            if (!first) {
                out.append(separator);
            }
            out.append(text(item));
            first = false;
        }
        return out.toString();
    }

    // Property access is left to the other resolvers.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // not ours
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return Collections.emptyIterator();
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
