"""The speech timeline: cues on time, narration queued, cuts and echo rendering."""

from __future__ import annotations

import numpy as np

from coach.speech.timeline import SpeechTimeline


def tone(seconds: float, value: int = 1000) -> np.ndarray:
    return np.full(int(seconds * 16000), value, dtype=np.int16)


def test_narration_queues_behind_what_is_playing():
    tl = SpeechTimeline()
    a = tl.add("one", tone(2.0), 0.0, "narration")
    b = tl.add("two", tone(1.0), 0.5, "narration")
    assert (a.start_s, a.end_s) == (0.0, 2.0)
    assert (b.start_s, b.end_s) == (2.0, 3.0)
    assert tl.busy_until() == 3.0


def test_a_cue_starts_on_time_cutting_what_plays_and_dropping_the_queue():
    tl = SpeechTimeline()
    tl.add("long", tone(3.0), 0.0, "narration")
    tl.add("queued", tone(1.0), 0.0, "narration")
    cue = tl.add("five", tone(0.5, 2000), 1.0, "cue")
    assert cue.start_s == 1.0
    assert [u.text for u in tl.utterances] == ["long", "five"]
    assert tl.utterances[0].end_s == 1.0
    assert tl.dropped == ["queued"]
    out = tl.render(0, 32000)
    assert out[8000] == 1000 and out[16000 + 100] == 2000
    assert abs(int(out[15999])) < 1000          # faded out before the cut


def test_speaking_counts_the_echo_tail():
    tl = SpeechTimeline()
    tl.add("x", tone(1.0), 2.0, "cue")
    assert tl.speaking(2.5, 2.6)
    assert not tl.speaking(3.2, 3.5)
    assert tl.speaking(3.2, 3.5, tail_s=0.35)
    assert not tl.speaking(0.0, 1.9)


def test_hush_stops_narration_now():
    tl = SpeechTimeline()
    tl.add("a", tone(5.0), 0.0, "narration")
    tl.add("b", tone(5.0), 0.0, "narration")
    tl.hush(1.0)
    assert tl.busy_until() == 1.0


def test_cues_asked_for_at_the_same_instant_play_one_after_the_other():
    """A tone and the words that go with it ("[hold_end]", then "Time's up") are both heard."""
    tl = SpeechTimeline()
    tl.add("narration", tone(3.0), 0.0, "narration")
    beep = tl.add("[hold_end]", tone(0.3, 2000), 1.0, "cue")
    words = tl.add("Time's up.", tone(1.0, 3000), 1.0, "cue")
    assert (beep.start_s, beep.end_s) == (1.0, 1.3)
    assert (words.start_s, words.end_s) == (1.3, 2.3)
    assert [u.text for u in tl.utterances] == ["narration", "[hold_end]", "Time's up."]
    later = tl.add("five", tone(0.5), 2.0, "cue")          # a later cue still cuts them
    assert words.end_s == 2.0 and later.start_s == 2.0


def test_months_of_cuts_keep_the_timeline_bounded():
    """`coach serve` trims with forget_before; the lines dropped by cuts are bounded too (before,
    every hushed line of every session stayed in `dropped` for the life of the daemon)."""
    from coach.speech.timeline import DROPPED_KEEP

    tl = SpeechTimeline()
    for k in range(3 * DROPPED_KEEP):
        t = 10.0 * k
        tl.add(f"long {k}", tone(0.05), t, "narration")
        tl.add(f"queued {k}", tone(0.05), t + 0.01, "narration")
        tl.hush(t + 0.02)
        tl.forget_before(int((t - 120) * tl.rate_hz))
    assert len(tl.dropped) == DROPPED_KEEP and tl.dropped[-1] == f"queued {3 * DROPPED_KEEP - 1}"
    assert len(tl.utterances) <= 14


def test_talked_over_the_narration_stops_now_and_the_cue_plays_on():
    """The user began talking over the coach: narration playing stops, narration queued is
    dropped, a cue sounding at that moment (or due later) is left alone."""
    tl = SpeechTimeline()
    tl.add("long", tone(3.0), 0.0, "narration")
    tl.add("queued", tone(1.0), 0.0, "narration")
    tl.add("[count]", tone(0.2, 2000), 2.5, "cue", tone=True)       # due later: placed already
    tl.add("after", tone(1.0), 0.0, "narration")                    # queued behind the cue
    assert tl.dropped == ["queued"]                                 # (the cue dropped that one)
    tl.cut(int(1.1 * 16000), narration_only=True)
    assert [(u.text, u.end_s) for u in tl.utterances] == [("long", 1.1), ("[count]", 2.7)]
    assert tl.dropped == ["queued", "after"]


def test_narrator_interrupt_returns_what_it_cut_to_say_again(tmp_path):
    from coach.session.actions import Say
    from coach.speech.narrator import Narrator
    from coach.vocab import SayKind

    tl = SpeechTimeline()
    narrator = Narrator(None, tl, live=False, warn=lambda _: None)     # printed: silence paced by words
    narrator.say(Say("Lie on your back with your knees bent.", 0.0, SayKind.NARRATION, "routine"))
    narrator.say(Say("Say ready when you're in position.", 0.0, SayKind.NARRATION, "ready_prompt"))
    narrator.say(Say("10 seconds in.", 9.0, SayKind.CUE, "hold_every"))
    cut = narrator.interrupt(0.8)
    assert [(s.text, s.line, s.kind, s.t) for s in cut] == [
        ("Lie on your back with your knees bent.", "routine", SayKind.NARRATION, 0.8),
        ("Say ready when you're in position.", "ready_prompt", SayKind.NARRATION, 0.8)]
    assert [u.text for u in tl.utterances if u.end > u.start] == ["Lie on your back with your knees bent.",
                                                                  "10 seconds in."]
    assert tl.utterances[0].end_s == 0.8
