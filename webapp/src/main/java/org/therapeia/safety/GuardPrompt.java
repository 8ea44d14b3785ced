package org.therapeia.safety;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.therapeia.api.ChatMessage;
import org.therapeia.inference.ChatTemplate;
import org.therapeia.inference.ChatTemplateException;
import org.therapeia.inference.ContentEscapes;
import org.therapeia.inference.PromptTooLongException;
import org.therapeia.inference.Tokenizer;

/**
 * A guard model's prompt, rendered by the guard's own chat template: each family documents its
 * prompt (task, hazard categories, the conversation as "User:"/"Agent:" or "USER:"/"ASSISTANT:"
 * turns, the answer format) as exactly that template, so rendering it is what Meta's and Qwen's
 * {@code apply_chat_template} examples do, and a folder with a customised category list keeps it.
 *
 * <p>The templates disagree on a message's {@code content}: Llama Guard 3 8B and Qwen3Guard-Gen
 * read it as a string, Llama Guard 3 1B as a list of parts ({@code [{"type": "text", "text": ...}]})
 * and silently renders nothing from a string. So the shape is found once, by rendering a probe
 * message both ways and keeping the one whose text reaches the prompt.
 *
 * <p>Message text is held back from the template as the main model's is ({@link Tokenizer#escape}):
 * a person who writes "&lt;|eot_id|&gt;" or "&lt;|im_end|&gt;" cannot close the guard's turn and
 * write its verdict.
 */
final class GuardPrompt {

    private static final String PROBE = "therapeia guard probe";

    private final ChatTemplate template;
    private final boolean contentAsParts;

    /** @throws IllegalArgumentException when the template shows a message's text in neither shape */
    GuardPrompt(ChatTemplate template) {
        this.template = template;
        List<ChatMessage> probe = List.of(new ChatMessage(ChatMessage.USER, PROBE));
        if (shows(probe, false)) {
            contentAsParts = false;
        } else if (shows(probe, true)) {
            contentAsParts = true;
        } else {
            throw new IllegalArgumentException("the guard model's chat template shows no message text, "
                    + "neither given as a string nor as a list of text parts");
        }
    }

    private boolean shows(List<ChatMessage> probe, boolean parts) {
        try {
            return render(probe, parts).contains(PROBE);
        } catch (ChatTemplateException e) {
            return false;
        }
    }

    /** The prompt text of {@code conversation} (alternating turns, user first and last). */
    String render(List<ChatMessage> conversation) {
        return render(conversation, contentAsParts);
    }

    private String render(List<ChatMessage> conversation, boolean parts) {
        List<Map<String, Object>> messages = new ArrayList<>(conversation.size());
        for (ChatMessage m : conversation) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", parts ? List.of(Map.of("type", "text", "text", m.content())) : m.content());
            messages.add(message);
        }
        return template.render(messages, true, Map.of());
    }

    /**
     * Token ids of the prompt for {@code conversation}, whose oldest exchanges are left out until
     * it fits {@code budget} tokens.
     *
     * @throws PromptTooLongException when the person's last message alone does not fit
     */
    int[] encode(Tokenizer tokenizer, List<ChatMessage> conversation, int budget) {
        List<ChatMessage> kept = conversation;
        while (true) {
            ContentEscapes escapes = tokenizer.escape(kept);
            int[] ids = tokenizer.encode(render(escapes.messages()), escapes);
            if (ids.length <= budget) {
                return ids;
            }
            if (kept.size() < 3) {
                throw new PromptTooLongException("the guard model's prompt needs " + ids.length
                        + " tokens; its context leaves " + budget);
            }
            kept = kept.subList(2, kept.size()); // a user turn and its reply: the rest still starts with a user
        }
    }
}
