package org.therapeia.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The built-in detector on each phenomenon it handles, and its limits. */
class RuleDetectorTest {

    private static final RuleDetector DETECTOR = new RuleDetector(List.of("en", "es", "fr", "de"));

    private static Level level(String message) {
        return DETECTOR.detect(message, false).stream().map(Signal::level).reduce(Level.NONE, Level::max);
    }

    /** The level the rules give, without the learned word weights ({@link WordScorerTest}). */
    private static Level ruleLevel(String message) {
        return DETECTOR.detect(message, false).stream().filter(s -> !s.ruleId().startsWith("words-"))
                .map(Signal::level).reduce(Level.NONE, Level::max);
    }

    private static Signal strongest(String message) {
        return DETECTOR.detect(message, false).stream().max((a, b) -> a.level().compareTo(b.level())).orElseThrow();
    }

    @Test
    void levelsFollowTheScreener() {
        assertEquals(Level.NONE, level("I had a nice walk with my dog today."));
        assertEquals(Level.DISTRESS, level("Everything feels hopeless lately."));
        assertEquals(Level.RISK, level("I wish I was dead."));
        assertEquals(Level.HIGH, level("I have the pills saved up."));
        assertEquals(Level.IMMINENT, level("I took the whole bottle."));
        assertEquals(Level.IMMINENT, level("I'm standing on the bridge right now."));
    }

    @Test
    void negationPastAndThirdPersonAreFlagged() {
        Signal negated = strongest("I'm not suicidal, just exhausted.");
        assertTrue(negated.negated());
        assertEquals(Level.DISTRESS, negated.level());

        Signal past = strongest("Years ago I tried to kill myself, but I'm doing well now.");
        assertTrue(past.past());
        assertEquals(Level.DISTRESS, past.level());

        Signal friend = strongest("My friend says she wants to die.");
        assertEquals(AtRisk.THIRD_PERSON, friend.atRisk());
        assertEquals(Level.RISK, friend.level());
    }

    @Test
    void aRecoveryStoryIsThePastInEverySentenceUnlessItCameBack() {
        // the letters' sentence has no past cue of its own; the message's recovery story gives it one
        assertEquals(Level.DISTRESS, level("After my divorce I hit rock bottom, to the point of writing goodbye "
                + "letters. Therapy got me through it. Now I want to keep that progress going."));
        assertEquals(Level.DISTRESS, level("I still keep the hospital bracelet from my suicide attempt in a drawer. "
                + "It reminds me how far I've come."));
        // "doing well now" is a recovery only beside a remote-past cue: here the attempt is today's
        assertTrue(level("I took the whole bottle an hour ago but I'm doing well now.").atLeast(Level.RISK));
        // a cue of it coming back, anywhere in the message, ends the story
        assertTrue(level("Therapy got me through it back then, but lately I've been writing goodbye letters "
                + "again.").atLeast(Level.HIGH));
    }

    @Test
    void topicsAndIdiomsAreNotRisk() {
        assertFalse(level("I'm writing an essay on suicide prevention.").atLeast(Level.RISK));
        assertFalse(level("This homework is killing me.").atLeast(Level.RISK));
        assertFalse(level("I'm dying to see that movie.").atLeast(Level.RISK));
        assertFalse(level("I could kill for a coffee.").atLeast(Level.RISK));
        assertFalse(level("I need to cut myself some slack.").atLeast(Level.RISK));
    }

    @Test
    void methodSeekingStaysHighInsideAStoryFrame() {
        assertEquals(Level.HIGH, level("For a story, how many sleeping pills would it take to kill someone?"));
    }

    @Test
    void indirectPhrasingsAndTextSpeak() {
        assertTrue(level("I just want it all to stop.").atLeast(Level.RISK));
        assertTrue(level("Everyone would be better off without me.").atLeast(Level.RISK));
        assertEquals(Level.HIGH, level("I won't be a burden much longer."));
        assertTrue(level("kms").atLeast(Level.RISK));
        assertTrue(level("i want to unalive myself").atLeast(Level.RISK));
        assertTrue(level("feeling sui").atLeast(Level.RISK));
        assertTrue(level("i wanna die").atLeast(Level.RISK));
        assertEquals(Level.DISTRESS, level("forgot my keys again kms lol"), "laughter turns slang into distress");
    }

    @Test
    void signsInsideWordsAndDroppedLettersAreRead() {
        assertTrue(level("I want to k!ll myself").atLeast(Level.RISK));
        assertTrue(level("thinkin bout killin myself").atLeast(Level.RISK));
        assertTrue(level("i want to end my lfie").atLeast(Level.RISK));
        assertFalse(level("I want to dye my hair blue").atLeast(Level.RISK));
    }

    @Test
    void quotedWordsAreMentionedOnlyInsideATopicFrame() {
        assertFalse(level("someone commented \"kms\" under my post, what does that mean?").atLeast(Level.RISK));
        Signal quotedFriend = strongest("my friend texted me \"i want to die\"");
        assertEquals(Level.RISK, quotedFriend.level(), "someone's quoted words without a topic frame still count");
    }

    @Test
    void hyperboleAboutTrivialOffencesIsNotAThreat() {
        assertFalse(level("my brother's going to kill me for scratching his car").atLeast(Level.RISK));
        assertFalse(level("I shot my shot and asked her out").atLeast(Level.RISK));
        assertTrue(level("my partner said he'll kill me if I leave").atLeast(Level.RISK));
    }

    @Test
    void methodAdjacentQuestionsCountOnlyInContext() {
        assertEquals(Level.NONE, level("What are the tallest bridges in the city?"));
        assertEquals(Level.HIGH, DETECTOR.detect("What are the tallest bridges in the city?", true).stream()
                .map(Signal::level).reduce(Level.NONE, Level::max));
    }

    @Test
    void otherCategories() {
        assertEquals(Category.ABUSE, strongest("My husband hits me.").category());
        assertEquals(Category.HARM_TO_OTHERS, strongest("I bought a knife to stab him.").category());
        assertEquals(Category.MEDICAL_EMERGENCY, strongest("My dad collapsed and he's not breathing.").category());
        assertEquals(Category.SELF_HARM, strongest("I cut myself again last night.").category());
    }

    @Test
    void otherLanguagesHaveTheBasics() {
        assertTrue(level("Quiero morirme").atLeast(Level.RISK));
        assertEquals(Level.DISTRESS, level("No quiero morir, solo estoy cansada"));
        assertTrue(level("Je veux mourir").atLeast(Level.RISK));
        assertTrue(level("Ich will nicht mehr leben").atLeast(Level.RISK));
        assertEquals(Level.NONE, level("Me muero de risa"));
        assertTrue(level("mi amiga dice que se quiere morir").atLeast(Level.RISK));
        assertTrue(level("ich will mich umbringen").atLeast(Level.RISK));
        assertEquals(Level.IMMINENT, level("j'ai le couteau dans la main"));
        // rules 2026-12-07.4: no reason left to stay, sleep and not wake, no longer a burden, a
        // stepparent who hits, the method question, chest pain that spreads
        assertTrue(level("Ich sehe keinen Sinn mehr, hier noch länger zu bleiben").atLeast(Level.RISK));
        assertTrue(level("Quisiera dormirme un día y no despertar").atLeast(Level.RISK));
        assertTrue(level("Pronto dejaré de ser una carga para mi familia").atLeast(Level.RISK));
        assertTrue(level("Bientôt je ne pèserai plus sur personne").atLeast(Level.RISK));
        assertTrue(level("Ma belle-mère me bat quand papa travaille").atLeast(Level.RISK));
        assertEquals(Level.HIGH, level("Wie viele Schlaftabletten braucht man, um nicht mehr aufzuwachen?"));
        assertEquals(Level.IMMINENT, level("Meine Mutter hat Schmerzen in der Brust bis in den Kiefer"));
    }

    @Test
    void theOutputCheckFindsMethodDetails() {
        assertTrue(DETECTOR.mentionsMethod("A lethal dose of acetaminophen is around 10 grams."));
        assertTrue(DETECTOR.mentionsMethod("Jumping from 30 meters is usually fatal."));
        assertFalse(DETECTOR.mentionsMethod("I'm so sorry you're hurting. You can call or text 988 any time."));
        assertFalse(DETECTOR.mentionsMethod("If you've taken an overdose, please call 911 now."));
    }

    @Test
    void aDetectionPastItsDeadlineIsAbandoned() {
        String long_ = "I feel like everything is falling apart and ".repeat(80);
        assertThrows(DeadlineText.Expired.class, () -> DETECTOR.detect(long_, false, ThreadCpuClock.now() - 1));
    }

    @Test
    void theLongestInputCompletes() {
        // a crafted worst case: the longest user_input of words the patterns half-match
        String worst = "i want to i want to i'm not sure if i want to ".repeat(100).substring(0, 4000);
        DETECTOR.detect(worst, true);
    }

    @Test
    void twoAmbiguousPreparationsAreContextForEachOther() {
        // each alone is something people also say about errands and decisions
        assertTrue(level("I updated my will.").compareTo(Level.HIGH) < 0);
        assertTrue(level("I've made up my mind.").compareTo(Level.HIGH) < 0);
        assertEquals(Level.HIGH, level("I updated my will. I've made up my mind."));
    }

    @Test
    void anActSaidWithAPronounCountsOnlyInContext() {
        // alone, the rules do not read it as an act (the word weights may still call it risk, level 2)
        assertTrue(level("ok I took them").compareTo(Level.HIGH) < 0);
        assertEquals(Level.IMMINENT, DETECTOR.detect("ok I took them", true).stream().map(Signal::level)
                .reduce(Level.NONE, Level::max));
    }

    @Test
    void phrasingsAreMatchedAFewWordsApart() {
        assertEquals(Level.RISK, level("I keep hoping I'll get into an accident"));
        assertEquals(Level.RISK, level("honestly it would be so much easier to just not exist"));
        assertEquals(Level.HIGH, level("how many of these would it take to not wake up"));
        assertEquals(Level.IMMINENT, level("took a whole bunch of my mom's sleeping pills"));
    }

    @Test
    void aPlaceWordUsedAsAMetaphorIsNoPlace() {
        assertTrue(level("I'm on the bridge between two career paths and can't decide").compareTo(Level.RISK) < 0);
        assertTrue(level("I'm on the edge of burning out").compareTo(Level.RISK) < 0);
        assertEquals(Level.IMMINENT, level("I'm on the edge of the roof right now"));
    }

    @Test
    void misspeltKeyWordsAreRead() {
        assertEquals(Level.RISK, level("i feel suicidel"));
        assertEquals(Level.RISK, level("ich will mich umbrignen"));
    }

    @Test
    void conceptFramesCombineWordsNobodyWroteDownTogether() {
        // each is one combination of a frame's lexicons, not a listed sentence
        assertEquals(Level.RISK, level("my parents would be less stressed with me gone"));
        assertEquals(Level.RISK, level("everything would be simpler if I just wasn't alive"));
        assertEquals(Level.RISK, level("I'd be doing everyone a favour by disappearing for good"));
        assertEquals(Level.RISK, level("I feel like I've overstayed my welcome on this planet"));
        assertEquals(Level.RISK, level("I don't think I'm going to be here much longer"));
        assertEquals(Level.RISK, level("thinking abt ending it all tbh"));
        assertEquals(Level.HIGH, level("does cutting your wrists hurt a lot"));
        assertEquals(Level.HIGH, level("I've been stashing my mum's tramadol"));
        assertEquals(Category.ABUSE, strongest("my dad hits my little brother and me").category());
    }

    @Test
    void conceptFramesKeepTheContextRules() {
        assertEquals(Level.DISTRESS, level("I'm not thinking about ending it all"), "negated");
        Signal friend = strongest("my friend keeps saying she wants to disappear for good");
        assertEquals(AtRisk.THIRD_PERSON, friend.atRisk());
        assertEquals(Level.RISK, friend.level());
        assertTrue(DETECTOR.detect("I'm scared my mum won't be around much longer", false).stream()
                .noneMatch(s -> s.atRisk() == AtRisk.SELF && s.level().atLeast(Level.RISK)), "a gap holds no new subject");
        assertTrue(DETECTOR.detect("done with life lol", false).stream()
                .anyMatch(s -> s.ruleId().equals("frame.weary_of_existence") && s.level() == Level.DISTRESS), "laughter");
    }

    @Test
    void conceptFramesHaveGuardsForOrdinaryEndingsAndIdioms() {
        assertFalse(level("I'm ending it with my boyfriend this weekend").atLeast(Level.RISK));
        assertFalse(level("I want to disappear to a beach for a month").atLeast(Level.RISK));
        assertFalse(level("my brother beat me at chess again").atLeast(Level.RISK));
        assertFalse(level("the team would be better off without me, I'm quitting").atLeast(Level.RISK));
        assertFalse(level("I'll kill her if she borrows my car again").atLeast(Level.RISK));
        assertFalse(level("I'd rather die than sing karaoke").atLeast(Level.RISK));
        assertFalse(level("thinking of dying my hair blue").atLeast(Level.RISK));
    }

    @Test
    void framesForPlansActsInProgressAndEuphemisms() {
        // paraphrases of the phenomena, not the tuning set's sentences
        assertEquals(Level.RISK, level("i'm about ready to clock out of life for good"));
        assertEquals(Level.RISK, level("just biding my time until i can finally rest for good"));
        assertEquals(Level.RISK, level("knowing i can always kill myself is the only comfort"));
        assertEquals(Level.RISK, level("i don't want to make it to another christmas"));
        assertEquals(Level.RISK, level("please god just take me now"));
        assertEquals(Level.HIGH, level("on friday i'm ending it"));
        assertEquals(Level.HIGH, level("if i swallow all the tablets with vodka that'll be enough"));
        assertEquals(Level.HIGH, level("i've been practicing tying a noose"));
        assertEquals(Level.IMMINENT, level("i'm sat in my car with the engine running in the closed garage"));
        assertEquals(Level.IMMINENT, level("the pills are already kicking in"));
        assertEquals(Level.IMMINENT, level("i'm pregnant and bleeding a lot"));
        assertEquals(Category.ABUSE, strongest("my dad fractured my wrist").category());
        assertEquals(Category.ABUSE, strongest("the coach pressures me to send him pictures").category());
        Signal brother = strongest("my brother burns himself with lighters");
        assertEquals(AtRisk.THIRD_PERSON, brother.atRisk());
        assertEquals(Level.RISK, brother.level());
        assertEquals(AtRisk.THIRD_PERSON, strongest("my mum keeps saying we'd be better off without her").atRisk());
        assertEquals(Level.HIGH, level("quelle dose de doliprane est mortelle"));
        assertEquals(Level.HIGH, level("¿cuántas pastillas de ibuprofeno serían mortales?"));
        assertEquals(Level.RISK, level("je n'ai plus envie de vivre"));
        assertEquals(Level.IMMINENT, level("the charcoal is lit and I've taped the door"));
        assertEquals(Level.IMMINENT, level("standing on the bridge railing now"));
        assertEquals(Level.HIGH, level("I've found a spot in the woods where nobody will find me"));
        assertEquals(Level.HIGH, level("which painkillers are the most dangerous in large amounts"));
        // a past contrasted with a present wish to end is not past
        assertEquals(Level.RISK, level("I used to cut, but now I just want it all to end"));
        assertFalse(level("I used to want to die, now I want to live").atLeast(Level.RISK));
    }

    @Test
    void theNewFramesHaveGuardsForTheirEverydayReadings() {
        // the rules' guards; the word weights still call "drive my car into town tonight" risk (README)
        assertFalse(ruleLevel("we're checking out early from the hotel tomorrow").atLeast(Level.RISK));
        assertFalse(ruleLevel("counting the days till i can stop working at this place").atLeast(Level.RISK));
        assertFalse(ruleLevel("mum please take me home after school").atLeast(Level.RISK));
        assertFalse(ruleLevel("on friday i'm ending it with him").atLeast(Level.RISK));
        assertFalse(ruleLevel("i'm going to drive my car into town tonight").atLeast(Level.RISK));
        assertFalse(ruleLevel("i've been checking when the trains come for my commute").atLeast(Level.RISK));
        assertFalse(ruleLevel("we practised tying knots at scouts").atLeast(Level.RISK));
        assertFalse(ruleLevel("i'm sitting in the car with the engine running waiting for my mum").atLeast(Level.RISK));
        assertFalse(ruleLevel("i'm on the platform waiting for the train to work").atLeast(Level.RISK));
        assertFalse(ruleLevel("the painkillers are kicking in finally").atLeast(Level.RISK));
        assertFalse(ruleLevel("my brother broke my phone").atLeast(Level.RISK));
        assertFalse(ruleLevel("i'm diabetic and was confused last week").atLeast(Level.RISK));
        assertFalse(ruleLevel("I'd love to go to sleep tonight and not wake up until noon").atLeast(Level.RISK));
        assertFalse(ruleLevel("the charcoal is lit and the windows are shut, burgers in 10").atLeast(Level.RISK));
        assertFalse(ruleLevel("sitting on the barrier waiting for the bus").atLeast(Level.RISK));
        assertFalse(ruleLevel("I've found a spot in the library where nobody will find me").atLeast(Level.RISK));
        assertFalse(ruleLevel("I'm ending it on friday with my therapist, we're done with sessions").atLeast(Level.RISK));
        assertFalse(ruleLevel("we're buying a rope tomorrow for the tug of war").atLeast(Level.RISK));
    }

    @Test
    void hyperboleFamiliesAreIdioms() {
        // an object as the killer, a trivial cause that "makes me want to" do a method, a gaffe just made
        assertFalse(level("this printer wants me dead").atLeast(Level.RISK));
        assertFalse(level("this meeting makes me want to jump out of the window").atLeast(Level.RISK));
        assertFalse(level("omg i want to die i just called my teacher mum").atLeast(Level.RISK));
        assertFalse(level("I can't wait for this essay to be dead and buried").atLeast(Level.RISK));
        assertFalse(level("Esta reunión me está matando").atLeast(Level.RISK));
        assertFalse(level("Cette réunion me tue").atLeast(Level.RISK));
        assertFalse(level("Dieser Job bringt mich um").atLeast(Level.RISK));
        // the same words about a person or about life stay risk
        assertTrue(level("my dad wants me dead").atLeast(Level.RISK));
        assertTrue(level("life makes me want to die").atLeast(Level.RISK));
        assertTrue(level("i want to die, i just can't anymore").atLeast(Level.RISK));
    }

    @Test
    void aLongMessageCompletes() {
        // ten thousand characters of the words the proximity patterns look between
        String longMessage = "i wish i hope i keep thinking how it would be to take all of my ".repeat(160).substring(0, 10_000);
        DETECTOR.detect(longMessage, true);
        // and of the words the concept frames look for
        String frames = "my dad hits my little brother and i won't be without me better off ".repeat(160).substring(0, 10_000);
        DETECTOR.detect(frames, true);
        // and of the plan, timing and third-person words the newer frames start from
        String plans = "on friday i'm going to my dad keeps saying i'm sitting in the car when i ".repeat(160).substring(0, 10_000);
        DETECTOR.detect(plans, true);
    }
}
