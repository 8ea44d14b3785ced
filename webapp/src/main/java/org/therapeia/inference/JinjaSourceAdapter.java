package org.therapeia.inference;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites the jinja2 constructs that Jinjava parses differently, inside
 * {@code {% %}} and {@code {{ }}} only, so that templates written for Python render the same:
 * <ul>
 *   <li>{@code not x is defined}: jinja2 reads {@code not (x is defined)}; Jinjava negated
 *       {@code x} first. Rewritten with the parentheses.</li>
 *   <li>keyword arguments with an operator, {@code namespace(n=messages|length - 1)}: jinja2 binds
 *       the whole expression to {@code n}; Jinjava binds {@code n=messages|length} and then
 *       subtracts. Each keyword argument's value is put in parentheses.</li>
 *   <li>{@code xs[::-1]}: Jinjava has no slice step; rewritten as {@code (xs|reverse)}.</li>
 *   <li>{@code ({"S1": ...})}: a dictionary literal in grouping parentheses is a dictionary to
 *       jinja2, while Jinjava makes it something a loop yields whole, once (Llama Guard 3 1B sets
 *       its hazard categories so). The parentheses are dropped; a call's are kept.</li>
 * </ul>
 * Text outside tags and string literals are left alone.
 */
final class JinjaSourceAdapter {

    private static final Pattern TAG = Pattern.compile("(\\{%-?|\\{\\{-?)(.*?)(-?%\\}|-?\\}\\})", Pattern.DOTALL);
    private static final Pattern NOT_IS = Pattern.compile(
            "\\bnot\\s+([A-Za-z_][\\w.]*(?:\\[[^\\]]*\\])*)\\s+is\\s+(not\\s+)?([A-Za-z_]\\w*)\\b");

    private static final Pattern REVERSED = Pattern.compile("([A-Za-z_][\\w.]*)\\[::-1\\]");

    private JinjaSourceAdapter() {
    }

    static String adapt(String source) {
        Matcher m = TAG.matcher(source);
        StringBuilder out = new StringBuilder(source.length() + 64);
        int last = 0;
        while (m.find()) {
            out.append(source, last, m.start());
            String body = m.group(2);
            boolean macro = body.stripLeading().startsWith("macro ");
            String adapted = NOT_IS.matcher(body).replaceAll("not ($1 is $2$3)");
            adapted = REVERSED.matcher(adapted).replaceAll("($1|reverse)");
            if (!macro) {
                adapted = parenthesiseKeywordArguments(adapted);
            }
            adapted = unwrapGroupedDictionaries(adapted);
            out.append(m.group(1)).append(adapted).append(m.group(3));
            last = m.end();
        }
        out.append(source, last, source.length());
        return out.toString();
    }

    /** {@code f(a=x - 1, b=y)} to {@code f(a=(x - 1), b=(y))}, at any depth of parentheses. */
    static String parenthesiseKeywordArguments(String expr) {
        StringBuilder out = new StringBuilder(expr.length() + 16);
        int depth = 0;
        int n = expr.length();
        int i = 0;
        while (i < n) {
            char c = expr.charAt(i);
            if (c == '\'' || c == '"') {
                int end = endOfString(expr, i);
                out.append(expr, i, end);
                i = end;
                continue;
            }
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            }
            out.append(c);
            i++;
            if (c == '=' && depth > 0 && isKeywordAssignment(expr, i - 1)) {
                int end = endOfArgument(expr, i);
                out.append('(').append(expr, i, end).append(')');
                i = end;
            }
        }
        return out.toString();
    }

    /** {@code ({...})} to {@code {...}} where the parentheses group rather than call, at any depth. */
    static String unwrapGroupedDictionaries(String expr) {
        StringBuilder out = new StringBuilder(expr.length());
        int n = expr.length();
        int i = 0;
        while (i < n) {
            char c = expr.charAt(i);
            if (c == '\'' || c == '"') {
                int end = endOfString(expr, i);
                out.append(expr, i, end);
                i = end;
                continue;
            }
            if (c == '(' && !followsCallee(out)) {
                int open = skipSpaces(expr, i + 1);
                int close = open < n && expr.charAt(open) == '{' ? matchingClose(expr, open) : -1;
                int paren = close < 0 ? -1 : skipSpaces(expr, close + 1);
                if (paren >= 0 && paren < n && expr.charAt(paren) == ')') {
                    out.append(unwrapGroupedDictionaries(expr.substring(open, close + 1)));
                    i = paren + 1;
                    continue;
                }
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    /** Whether a '(' after {@code before} opens a call's arguments ({@code f(}, {@code x.y(}, {@code g()(}). */
    private static boolean followsCallee(CharSequence before) {
        int j = before.length() - 1;
        while (j >= 0 && before.charAt(j) == ' ') {
            j--;
        }
        if (j < 0) {
            return false;
        }
        char c = before.charAt(j);
        return Character.isLetterOrDigit(c) || c == '_' || c == ')' || c == ']';
    }

    private static int skipSpaces(String s, int from) {
        int i = from;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The index of the bracket closing the one at {@code open}, strings skipped; -1 when there is none. */
    private static int matchingClose(String s, int open) {
        int end = endOfNesting(s, open + 1, false);
        return end < s.length() ? end : -1;
    }

    /** '=' at {@code at} is {@code name=} and not part of ==, !=, <=, >=. */
    private static boolean isKeywordAssignment(String s, int at) {
        if (at + 1 < s.length() && s.charAt(at + 1) == '=') {
            return false;
        }
        int j = at - 1;
        if (j < 0 || !(Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            return false;
        }
        while (j >= 0 && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            j--;
        }
        while (j >= 0 && s.charAt(j) == ' ') {
            j--;
        }
        return j >= 0 && (s.charAt(j) == '(' || s.charAt(j) == ',');
    }

    /** Where the argument starting at {@code from} ends: at a ',' or a closing bracket outside nested ones. */
    private static int endOfArgument(String s, int from) {
        return endOfNesting(s, from, true);
    }

    /**
     * The first closing bracket (or, with {@code commaEnds}, ',') outside the brackets opened after {@code from},
     * strings skipped; {@code s.length()} when there is none.
     */
    private static int endOfNesting(String s, int from, boolean commaEnds) {
        int depth = 0;
        int i = from;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = endOfString(s, i);
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) {
                    return i;
                }
                depth--;
            } else if (c == ',' && depth == 0 && commaEnds) {
                return i;
            }
            i++;
        }
        return s.length();
    }

    private static int endOfString(String s, int start) {
        char quote = s.charAt(start);
        int i = start + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\') {
                i += 2;
                continue;
            }
            if (c == quote) {
                return i + 1;
            }
            i++;
        }
        return s.length();
    }
}
