"""Short lines and their speakers: how many get a label, and whether any gets a wrong one.

Conversations of lines, each line one final segment as the pipeline hands it to the speaker
identifier (the real Resemblyzer encoder, in order), with and without the same-turn rule of
engine/speakers/clustering.py (a short line continues the previous speaker's turn when its
voice does not contradict that):

- two synthetic voices (Piper's en_US-joe and espeak-ng's voices) alternating, with short
  replies ("Yes.") after the other voice and short continuations ("Okay.") after one's own;
- the real recordings of ../shared/data/speech: their speakers' long lines and short pieces
  (the first 0.5-0.9 s of speech of a recording) after their own or another speaker's line.

A label is right when it is the label the identifier gave the line's speaker's long lines
(majority); short lines are those under SpeakerOptions.min_segment_s.

    python bench/bench_short_speakers.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import corpus  # noqa: E402

from engine.config import SpeakerOptions  # noqa: E402
from engine.speakers.encoder import load_voice_encoder  # noqa: E402
from engine.speakers.identifier import EmbeddingSpeakerIdentifier  # noqa: E402
from engine.speakers.profiles import SpeakerProfiles  # noqa: E402

SR = corpus.SAMPLE_RATE
PAD_S = 0.1  # silence the VAD keeps around speech, each side

# (speaker, text): "a" / "b" alternate; short replies and continuations in between
DIALOGUE = (
    ("a", "Good morning, let us start with the figures of the last quarter."),
    ("a", "Okay."),
    ("b", "Before that, could you share the slides with everyone please?"),
    ("a", "Yes."),
    ("a", "They are in the folder I sent yesterday evening."),
    ("b", "Thanks."),
    ("b", "I found them, the second page looks wrong to me."),
    ("a", "Right."),
    ("b", "No."),
    ("b", "The totals do not add up in the last column."),
    ("a", "I see."),
    ("a", "I will fix the table after the meeting and send it again."),
    ("b", "Good."),
    ("a", "Sure."),
    ("b", "Then let us move on to the budget for the next quarter."),
    ("b", "Okay?"),
    ("a", "Fine."),
    ("a", "The budget is ten percent higher than last year because of the new office."),
    ("b", "Really?"),
    ("a", "Yes."),
    ("b", "We should talk about that with the finance team next week."),
    ("a", "Agreed."),
)


@dataclass
class Line:
    speaker: str
    audio: np.ndarray = field(repr=False)

    @property
    def duration(self) -> float:
        return len(self.audio) / SR


def speech_only(audio: np.ndarray, pad_s: float = PAD_S) -> np.ndarray:
    """The audio from the first to the last loud 10 ms frame, with `pad_s` around it."""
    hop = 160
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    power = (frames**2).mean(axis=1) + 1e-12
    loud = np.nonzero(power > power.max() * 1e-3)[0]
    start = max(int(loud[0]) * hop - int(pad_s * SR), 0)
    end = min((int(loud[-1]) + 1) * hop + int(pad_s * SR), len(audio))
    return audio[start:end]


def head(audio: np.ndarray, seconds: float) -> np.ndarray:
    """The first `seconds` of speech (a short piece of a real line)."""
    speech = speech_only(audio, 0.0)
    piece = speech[: int(seconds * SR)]
    pad = np.zeros(int(PAD_S * SR), np.float32)
    return np.concatenate([pad, piece, pad])


def synthetic(voices: dict[str, str]) -> list[Line]:
    """DIALOGUE spoken by two voices: "piper" or an espeak-ng voice name."""
    lines: list[Line] = []
    spoken: dict[str, list[np.ndarray]] = {}
    for who, voice in voices.items():
        texts = [text for w, text in DIALOGUE if w == who]
        utterances = corpus.piper(texts) if voice == "piper" else corpus.espeak(texts, voice)
        spoken[who] = [speech_only(u.audio) for u in utterances]
    for who, _text in DIALOGUE:
        lines.append(Line(who, spoken[who].pop(0)))
    return lines


def real() -> list[Line]:
    """The shared recordings: the cards speaker, goforward, forever (long lines and pieces)."""
    clip = {u.name.removesuffix(".wav"): u.audio for u in corpus.shared_clips()}
    L = Line  # noqa: N806
    return [
        L("cards", speech_only(clip["cards-005"])),
        L("cards", head(clip["cards-001"], 0.6)),  # continuation
        L("goforward", speech_only(clip["goforward"])),
        L("cards", head(clip["cards-004"], 0.5)),  # reply
        L("cards", speech_only(clip["cards-002"])),
        L("cards", head(clip["cards-003"], 0.7)),  # continuation
        L("forever", speech_only(clip["forever"])),
        L("forever", head(clip["forever"], 0.7)),  # continuation
        L("goforward", head(clip["goforward"], 0.7)),  # reply
        L("cards", head(clip["cards-005"], 0.7)),  # reply
        L("cards", speech_only(clip["cards-003"])),
        L("goforward", head(clip["goforward"], 0.5)),  # reply
        L("forever", head(clip["forever"], 0.6)),  # reply
        L("cards", speech_only(clip["cards-001"])),
        L("cards", head(clip["cards-002"], 0.6)),  # continuation
    ]


def run(lines: list[Line], options: SpeakerOptions, encoder: object, tmp: Path) -> dict:
    identifier = EmbeddingSpeakerIdentifier(
        options,
        embedder=encoder,  # type: ignore[arg-type]
        profiles=SpeakerProfiles(tmp),
    )
    matches = [identifier.identify(line.audio) for line in lines]
    labels = [m.label for m in matches]
    short = [line.duration < options.min_segment_s for line in lines]
    owner: dict[str, str] = {}  # label -> the speaker whose long lines carry it most
    votes = Counter(
        (lab, ln.speaker) for lab, ln, s in zip(labels, lines, short, strict=True) if not s
    )
    for (lab, who), _n in votes.most_common():
        if lab is not None and lab not in owner:
            owner[lab] = who
    rows = list(zip(labels, lines, short, strict=True))
    wrong_long = sum(1 for lab, ln, s in rows if not s and owner.get(lab or "") != ln.speaker)
    short_rows = [(lab, ln) for lab, ln, s in rows if s]
    labelled = [(lab, ln) for lab, ln in short_rows if lab is not None]
    wrong = [(lab, ln) for lab, ln in labelled if owner.get(lab or "") != ln.speaker]
    return {
        "lines": len(lines),
        "short": len(short_rows),
        "labelled": len(labelled),
        "wrong": len(wrong),
        "wrong_long": wrong_long,
        "speakers": len(set(filter(None, labels))),
        "labels": labels,
        "similarity": [m.similarity for m in matches],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every line's label")
    args = parser.parse_args()
    encoder = load_voice_encoder()
    after = SpeakerOptions()
    before = replace(after, continuation_threshold=1.0)  # the same-turn rule off
    sets = {
        "piper joe / espeak en-us+f3": lambda: synthetic({"a": "piper", "b": "en-us+f3"}),
        "piper joe / espeak en-gb+m3": lambda: synthetic({"a": "piper", "b": "en-gb+m3"}),
        "real recordings (3 speakers)": real,
    }
    print(f"short line: under {after.min_segment_s:.1f} s; rule off (before) vs on (after)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in sets.items():
            lines = make()
            for tag, options in (("before", before), ("after", after)):
                r = run(lines, options, encoder, Path(tmp))
                print(
                    f"{name:32s} {tag:6s}: {r['short']:2d} short of {r['lines']:2d} lines, "
                    f"labelled {r['labelled']:2d}, wrong {r['wrong']} "
                    f"(long lines wrong: {r['wrong_long']}, speakers found: {r['speakers']})"
                )
                if args.verbose:
                    for lab, sim, ln in zip(r["labels"], r["similarity"], lines, strict=True):
                        print(f"    {ln.speaker:10s} {ln.duration:4.2f} s -> {lab} ({sim:.2f})")


if __name__ == "__main__":
    main()
