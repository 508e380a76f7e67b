"""Command phrases: normalised once, shared by every backend's grammar.

A recognizer may only report a command when the whole utterance is one of its phrases, so both
backends look phrases up here by their normalised text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from coach.errors import VoiceError

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w' ]+")


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, no punctuation, single spaces: "I'm  Ready!" -> "i'm ready"."""
    text = text.translate(_APOSTROPHES).lower()
    text = _NOT_WORD.sub(" ", text)
    return " ".join(word.strip("'") for word in text.split() if word.strip("'"))


class PhraseError(VoiceError):
    """A phrase a recognizer cannot use. `phrase` (normalised) lets whoever built the recognizer from
    a voice pack put the pack's `FILE:LINE: FIELD` in front of the message (`select.make_recognizer`)."""

    def __init__(self, command: str, phrase: str, problem: str) -> None:
        super().__init__(f"command `{command}`: {problem}")
        self.phrase = phrase
        self.problem = problem


@dataclass(frozen=True)
class PhraseTable:
    """Normalised phrase -> command id. Built from the voice pack's `dict[command, phrases]`."""

    by_phrase: Mapping[str, str]

    @classmethod
    def from_mapping(cls, phrases: Mapping[str, list[str]]) -> PhraseTable:
        """Validate and normalise; a phrase claimed by two commands could never be told apart."""
        by_phrase: dict[str, str] = {}
        for command, texts in phrases.items():
            if not texts:
                raise VoiceError(f"command {command!r} has no phrases")
            for text in texts:
                phrase = normalise(text)
                if not phrase:
                    raise PhraseError(command, phrase, f"the phrase `{text}` has no words to say")
                other = by_phrase.get(phrase)
                if other is not None and other != command:
                    raise PhraseError(command, phrase,
                                      f"the phrase `{phrase}` is used for both {other} and {command}")
                by_phrase[phrase] = command
        if not by_phrase:
            raise VoiceError("no command phrases given")
        return cls(by_phrase=dict(by_phrase))

    @property
    def phrases(self) -> list[str]:
        return sorted(self.by_phrase)

    @property
    def words(self) -> list[str]:
        return sorted({word for phrase in self.by_phrase for word in phrase.split()})

    def command_for(self, text: str) -> str | None:
        """The command whose phrase is exactly `text` (after normalising), else None."""
        return self.by_phrase.get(normalise(text))


def jsgf_grammar(table: PhraseTable) -> str:
    """A JSGF grammar whose only sentences are the phrases (pocketsphinx)."""
    alternatives = " | ".join(f"( {phrase} )" for phrase in table.phrases)
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {alternatives} ;\n"


# Everyday words a person says on a mat. They compete with the commands inside one language model,
# so a sentence is heard as fillers instead of being forced onto a command (pocketsphinx).
FILLER_WORDS_EN = tuple("""
a about above after again all am an and any are arm arms around as at away back be because been
before being below better bit breathe breath but by can chair come could day did do does doing don't
down each easy else even every feel feet few floor for from get give go going good got great ground
had hand hands has have he head her here high him hip hips his hold how hurt i if in into is it it's
just keep knee knees know last leg legs left let lift like little long look lower make me more
morning most move much music my need new nice no nose not now of off oh ok okay on once one only or
other our out over please put quite really rest right said same say second see set she should side
since slowly so some something stay still straight stretch such sure take talk tell than thank
thanks that the their them then there these they thing think this those though three through tight
time to today too try turn two um uh up us very wait want was water way we well were what when where
which while who why will with work would yeah yes yet you your
""".split())


def filler_lm_text(table: PhraseTable, fillers: list[str], phrase_weight: int, seed: int = 0) -> str:
    """Training sentences for a small n-gram model: each phrase `phrase_weight` times, each filler once,
    and as many random filler sequences. A higher weight hears more commands and more false ones.
    """
    import random

    rng = random.Random(seed)
    lines = [phrase for phrase in table.phrases for _ in range(phrase_weight)]
    lines += fillers
    for _ in range(len(fillers)):
        lines.append(" ".join(rng.choice(fillers) for _ in range(rng.randint(2, 6))))
    return "\n".join(lines)


def vosk_grammar(table: PhraseTable, garbage: str = "[unk]") -> list[str]:
    """vosk's runtime grammar: the phrases plus a garbage word that absorbs other speech."""
    return [*table.phrases, garbage]
