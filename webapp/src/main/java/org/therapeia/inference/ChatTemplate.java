package org.therapeia.inference;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import jinjava.javax.el.ArrayELResolver;
import jinjava.javax.el.CompositeELResolver;
import org.therapeia.api.ChatMessage;

/**
 * A model's chat template (the Jinja {@code chat_template} of its {@code tokenizer_config.json})
 * rendered with Jinjava the way {@code transformers.apply_chat_template} renders it with jinja2:
 * {@code trim_blocks} and {@code lstrip_blocks}, the variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the functions
 * {@code raise_exception} and {@code strftime_now}; Python's string methods are available as in
 * jinja2 ({@link PythonStringMethods}).
 *
 * <p>Thread-safe: every render gets its own interpreter.
 */
public final class ChatTemplate {

    /**
     * The Jinjava behaviours that match Python's jinja2. Not LegacyOverrides.ALL: it also requires
     * whitespace inside tags ({@code {{ x }}}), which templates written for jinja2 do not have.
     */
    private static final LegacyOverrides PYTHON_JINJA = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withAllowAdjacentTextNodes(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build();

    private final String source;
    private final String adapted;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = Objects.requireNonNull(source, "source");
        this.adapted = JinjaSourceAdapter.adapt(source);
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.jinjava = newJinjava();
    }

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(new ArrayELResolver(true));
        resolver.add(new JinjavaListELResolver(true));
        resolver.add(new TypeConvertingMapELResolver(true));
        resolver.add(new JinjavaBeanELResolver(true));
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Jinjava would otherwise render "{{ ... }}" found in a value (a message) as a
                // template: jinja2 never does, and a user could then evaluate expressions and write
                // {{ bos_token }}, a control token, through the template's own output
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withLegacyOverrides(PYTHON_JINJA)
                .withElResolver(resolver)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateFunctions.class, "raiseException", Object.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                TemplateFunctions.class, "strftimeNow", String.class));
        return jinjava;
    }

    /** The template text. */
    public String source() {
        return source;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    /** Renders {@code messages} (role, content) with no extra variables. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        return render(list, addGenerationPrompt, Map.of());
    }

    /**
     * Renders raw message maps, as {@code apply_chat_template} receives them, with extra template
     * variables (e.g. {@code enable_thinking}).
     *
     * @throws ChatTemplateException when the template raises an exception or cannot be rendered
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
                         Map<String, ?> variables) {
        Map<String, Object> bindings = new HashMap<>(variables);
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        RenderResult result;
        try {
            result = jinjava.renderForResult(adapted, bindings);
        } catch (TemplateRaisedException e) {
            throw new ChatTemplateException(e.getMessage(), true);
        } catch (RuntimeException e) {
            TemplateRaisedException raised = raisedIn(e);
            if (raised != null) {
                throw new ChatTemplateException(raised.getMessage(), true);
            }
            throw new ChatTemplateException("the chat template could not be rendered: " + e.getClass().getSimpleName(),
                    false);
        }
        for (TemplateError error : result.getErrors()) {
            TemplateRaisedException raised = raisedIn(error.getException());
            if (raised != null) {
                throw new ChatTemplateException(raised.getMessage(), true);
            }
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                // the line and the kind of failure only: the renderer's own message may quote the
                // value it failed on, i.e. part of a person's message, and this one is logged
                throw new ChatTemplateException("the chat template could not be rendered (line " + error.getLineno()
                        + "): " + error.getReason(), false);
            }
        }
        return result.getOutput();
    }

    private static TemplateRaisedException raisedIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TemplateRaisedException raised) {
                return raised;
            }
        }
        return null;
    }
}
