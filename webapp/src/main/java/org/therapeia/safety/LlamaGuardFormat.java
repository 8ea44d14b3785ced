package org.therapeia.safety;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Llama Guard 3 (1B and 8B; Meta's model cards and the chat template in their tokenizer_config.json).
 * The prompt asks for "safety assessment for ONLY THE LAST User message" and says: "First line
 * must read 'safe' or 'unsafe'. If unsafe, a second line must include a comma-separated list of
 * violated categories." So a verdict is {@code safe}, or {@code unsafe} then e.g. {@code S1,S11};
 * the 8B template ends right after the assistant header, so its answer starts with a blank line.
 *
 * <p>The hazard codes (MLCommons taxonomy) that are crisis signals here: S1 Violent Crimes and
 * S9 Indiscriminate Weapons (harm to others), S3 Sex Crimes and S4 Child Exploitation (abuse),
 * S11 Self-Harm ("Suicide &amp; Self-Harm"; recorded as suicide: the guard does not tell the two
 * apart and the resources are the same). An unsafe verdict on any of them is level 2, the level
 * of non-specific risk: the guard says nothing of method, plan or means, which the rules grade
 * (the higher level wins). The other codes (S2 Non-Violent Crimes, S5 Defamation, S6 Specialized
 * Advice, S7 Privacy, S8 Intellectual Property, S10 Hate, S12 Sexual Content, S13 Elections, S14
 * Code Interpreter Abuse) concern content moderation, not a person at risk: level 0.
 */
public final class LlamaGuardFormat implements GuardFormat {

    private static final Map<Integer, Category> CRISIS_CODES = Map.of(
            1, Category.HARM_TO_OTHERS,
            3, Category.ABUSE,
            4, Category.ABUSE,
            9, Category.HARM_TO_OTHERS,
            11, Category.SUICIDE);
    /** Llama Guard 3 8B has S1 to S14 (the 1B model S1 to S13). */
    private static final int LAST_CODE = 14;
    private static final Pattern CODE = Pattern.compile("S(\\d{1,2})");

    @Override
    public String id() {
        return "llama-guard-3";
    }

    /** "unsafe", a newline and all fourteen codes with their commas come to about 45 tokens. */
    @Override
    public int maxNewTokens() {
        return 48;
    }

    @Override
    public Optional<GuardVerdict> parse(String output) {
        List<String> lines = GuardOutputLines.of(output);
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        String first = lines.get(0).toLowerCase(Locale.ROOT);
        if (first.equals("safe")) {
            return Optional.of(GuardVerdict.SAFE);
        }
        if (!first.equals("unsafe") || lines.size() < 2) {
            return Optional.empty(); // not an answer, or one cut before its categories
        }
        Set<Category> crisis = EnumSet.noneOf(Category.class);
        boolean anyCode = false;
        for (String item : lines.get(1).split(",")) {
            Matcher m = CODE.matcher(item.strip().toUpperCase(Locale.ROOT));
            if (!m.matches()) {
                return Optional.empty();
            }
            int code = Integer.parseInt(m.group(1));
            if (code < 1 || code > LAST_CODE) {
                return Optional.empty();
            }
            anyCode = true;
            Category c = CRISIS_CODES.get(code);
            if (c != null) {
                crisis.add(c);
            }
        }
        if (!anyCode) {
            return Optional.empty();
        }
        return Optional.of(crisis.isEmpty() ? GuardVerdict.SAFE : new GuardVerdict(Level.RISK, new ArrayList<>(crisis)));
    }
}
