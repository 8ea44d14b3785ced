package org.therapeia.safety;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Qwen3Guard-Gen (0.6B, 4B, 8B; Qwen's model card and the chat template in its
 * tokenizer_config.json). The prompt asks for the "safety assessment for ONLY THE LAST USER's
 * query" and says: "The first line must be one of: 'Safety: Safe', 'Safety: Unsafe', 'Safety:
 * Controversial'. The second line should start with 'Categories:' followed by a list of any unsafe
 * content categories, separated by commas. If the content is safe, use 'Categories: None'." A
 * response-moderation answer adds a third line, {@code Refusal: Yes|No}, which is ignored here.
 * The template closes an empty think block itself; should a model still write one, its lines are
 * skipped.
 *
 * <p>Crisis signals among its categories: "Suicide &amp; Self-Harm" (recorded as suicide: the guard
 * does not tell the two apart) and "Violent" (harm to others). Unsafe on either is level 2.
 * Controversial ("does not explicitly contain prohibited content, but its intent [or] context ...
 * could be misinterpreted") on self-harm is level 2 as well: that is indirect ideation, which the
 * Columbia-anchored scale puts at 2; controversial violence is level 1 (a signal, no action), since
 * it is mostly talk about violence. The other categories (Non-violent Illegal Acts, Sexual Content
 * or Sexual Acts, PII, Unethical Acts, Politically Sensitive Topics, Copyright Violation,
 * Jailbreak) concern content moderation, not a person at risk: level 0.
 */
public final class Qwen3GuardFormat implements GuardFormat {

    private static final String SAFETY = "safety:";
    private static final String CATEGORIES = "categories:";

    @Override
    public String id() {
        return "qwen3guard";
    }

    /** Two lines naming at most all nine categories come to about 45 tokens. */
    @Override
    public int maxNewTokens() {
        return 64;
    }

    @Override
    public Optional<GuardVerdict> parse(String output) {
        List<String> lines = new ArrayList<>(GuardOutputLines.of(output));
        lines.removeIf(l -> l.equals("<think>") || l.equals("</think>"));
        if (lines.isEmpty() || !lines.get(0).toLowerCase(Locale.ROOT).startsWith(SAFETY)) {
            return Optional.empty();
        }
        String safety = lines.get(0).substring(SAFETY.length()).strip().toLowerCase(Locale.ROOT);
        if (safety.equals("safe")) {
            return Optional.of(GuardVerdict.SAFE);
        }
        boolean unsafe = safety.equals("unsafe");
        if (!unsafe && !safety.equals("controversial")) {
            return Optional.empty();
        }
        if (lines.size() < 2 || !lines.get(1).toLowerCase(Locale.ROOT).startsWith(CATEGORIES)) {
            return Optional.empty(); // cut before its categories
        }
        String named = lines.get(1).substring(CATEGORIES.length()).strip();
        if (named.isEmpty()) {
            return Optional.empty();
        }
        Set<Category> crisis = EnumSet.noneOf(Category.class);
        for (String item : named.split(",")) {
            String name = item.strip().toLowerCase(Locale.ROOT);
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            if (name.equals("suicide & self-harm")) {
                crisis.add(Category.SUICIDE);
            } else if (name.equals("violent")) {
                crisis.add(Category.HARM_TO_OTHERS);
            }
        }
        if (crisis.isEmpty()) {
            return Optional.of(GuardVerdict.SAFE);
        }
        Level level = unsafe || crisis.contains(Category.SUICIDE) ? Level.RISK : Level.DISTRESS;
        return Optional.of(new GuardVerdict(level, new ArrayList<>(crisis)));
    }
}
