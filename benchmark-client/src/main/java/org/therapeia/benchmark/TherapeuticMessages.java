package org.therapeia.benchmark;

import java.util.List;

/**
 * The benchmark's inputs: 40 distinct messages of the kind a person writes to a supportive
 * assistant, and 4 conversation contexts they arrive in. Written for this benchmark (no real
 * person's words). Their lengths vary on purpose, from a line to a short paragraph, so prompt
 * lengths vary as they do in use.
 */
public final class TherapeuticMessages {

    /** Ordered from the most to the least common: {@link MessagePicker} favours the first ones. */
    public static final List<String> MESSAGES = List.of(
            "I've been feeling anxious lately and I don't know why.",
            "I can't sleep. I lie awake for hours going over everything I said during the day.",
            "Work has been overwhelming. My manager keeps adding projects and I feel like I'm drowning.",
            "My mother passed away three months ago and I still can't believe she's gone.",
            "I had another argument with my partner last night and now we're barely speaking.",
            "How do I stop overthinking everything?",
            "I feel lonely even when I'm surrounded by people.",
            "I get panic attacks before meetings. My heart races and I feel like I can't breathe.",
            "I keep procrastinating on things that matter and then I hate myself for it.",
            "Some days I don't have the energy to get out of bed.",
            "I think I'm burning out, but I can't afford to take time off.",
            "My best friend stopped replying to my messages and I don't know what I did wrong.",
            "I'm starting a new job on Monday and I'm terrified I won't be good enough.",
            "I've been drinking more than usual to calm down in the evenings. Should I be worried?",
            "My teenage son won't talk to me anymore. Every conversation ends in a fight.",
            "I compare myself to everyone on social media and always come out worse.",
            "Since the breakup I can't concentrate on anything.",
            "I feel guilty when I say no to people, so I end up saying yes to everything.",
            "My dog died last week. People say it's just a pet, but I'm heartbroken.",
            "I wake up at 4 a.m. every night and can't get back to sleep. What can I try?",
            "I'm caring for my father who has dementia and I feel exhausted and resentful, then guilty for feeling that.",
            "How can I calm down quickly when I feel a wave of anxiety coming?",
            "I got passed over for a promotion again and I'm starting to think I'm just not good at what I do.",
            "My parents are divorcing and both of them want me to take their side.",
            "I moved to a new city for work and I don't know anyone here.",
            "I keep replaying a mistake I made years ago. I can't let it go.",
            "I feel numb. Not sad exactly, just nothing.",
            "My partner says I'm too jealous and I think they might be right. How do I change that?",
            "I have a presentation tomorrow and my mind keeps imagining everything that could go wrong.",
            "I've been snapping at my kids and I hate the parent I'm becoming.",
            "It's the anniversary of my brother's death next week and I'm dreading it.",
            "I don't know what I want to do with my life and everyone else seems to have it figured out.",
            "I'm scared of losing my job in the next round of layoffs.",
            "I find it really hard to ask for help, even when I'm struggling.",
            "My sleep schedule is a mess: I scroll on my phone until 2 a.m. and feel awful the next day.",
            "I had a fight with my sister at a family dinner and now the whole family is taking sides.",
            "I feel like a fraud at work, like someone will find out I don't belong there.",
            "My chronic pain makes me irritable and I'm pushing people away.",
            "I want to set better boundaries with my coworkers but I don't know where to start.",
            "I've been feeling a bit better this week and I'm afraid it won't last.");

    /**
     * Earlier turns the message may follow: none (a first message) or one short exchange. The
     * chat template renders them into the prompt, so they change the prompt and the cache key.
     */
    public static final List<List<ChatTurn>> CONTEXTS = List.of(
            List.of(),
            List.of(ChatTurn.user("Hi. I'm not really sure where to start."),
                    ChatTurn.assistant("That's completely okay. We can start wherever feels most manageable. "
                            + "What has been on your mind?")),
            List.of(ChatTurn.user("It's been a really long week."),
                    ChatTurn.assistant("It sounds like it has taken a lot out of you. "
                            + "What made this week feel so long?")),
            List.of(ChatTurn.user("My therapist suggested I write things down between sessions, so I'm trying this."),
                    ChatTurn.assistant("I'm glad you're giving it a try. Putting things into words can make them "
                            + "a little easier to look at. What would you like to start with?")));

    /**
     * The system prompt every turn of a conversation run sends: the one of
     * bench/conversation_benchmark.py, so that both run the same workload. Long enough (about 100
     * tokens) that the part shared by every conversation's prompt is worth reusing.
     */
    public static final String SYSTEM_PROMPT = "You are a supportive, non-judgemental listener in a mental-health "
            + "support service. Reflect what the person says, ask one gentle open question at a time, never "
            + "diagnose, never give medical advice, and keep replies short and warm. If the person mentions any "
            + "risk to their safety, encourage them to reach out to local emergency services or a crisis line "
            + "right away. Respect their pace, and remember that they are the expert on their own life; your role "
            + "is to help them think, not to decide for them.";

    private TherapeuticMessages() {
    }
}
