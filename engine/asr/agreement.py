"""Local agreement (LocalAgreement-2, as in whisper_streaming): a word is committed once two
successive partial hypotheses agree on it. Committed words never change or disappear while the
partials grow; the final is the segment's own whole decode and may correct them."""

from __future__ import annotations

from dataclasses import dataclass

from engine.asr.text import normalize_unit


@dataclass(frozen=True, slots=True)
class AgreementState:
    committed: tuple[str, ...]
    tentative: tuple[str, ...]


class LocalAgreement:
    def __init__(self) -> None:
        self.committed: list[str] = []
        self._previous_tail: list[str] = []  # the uncommitted part of the previous hypothesis

    def _tail(self, hypothesis: list[str]) -> list[str]:
        """The part of `hypothesis` after the committed words.

        Usually the hypothesis starts with the committed words. When Whisper changed its mind
        about them, realign on the last committed word near the expected place; failing that,
        cut at the same word count.
        """
        k = len(self.committed)
        if k == 0:
            return list(hypothesis)
        norm_hyp = [normalize_unit(u) for u in hypothesis]
        norm_committed = [normalize_unit(u) for u in self.committed]
        if norm_hyp[:k] == norm_committed:
            return list(hypothesis[k:])
        last = norm_committed[-1]
        for offset in (0, -1, 1, -2, 2, -3, 3):
            p = k - 1 + offset
            if 0 <= p < len(norm_hyp) and norm_hyp[p] == last:
                return list(hypothesis[p + 1 :])
        return list(hypothesis[k:])

    def update(self, hypothesis: list[str]) -> AgreementState:
        """Take a new hypothesis of the whole growing segment; commit what two agree on."""
        tail = self._tail(hypothesis)
        agreed = 0
        for a, b in zip(self._previous_tail, tail, strict=False):
            if normalize_unit(a) != normalize_unit(b):
                break
            agreed += 1
        self.committed.extend(tail[:agreed])
        self._previous_tail = tail[agreed:]
        return AgreementState(tuple(self.committed), tuple(tail[agreed:]))

    def finalize(self, hypothesis: list[str]) -> list[str]:
        """The final transcript: the final hypothesis itself, which decodes the whole segment
        with the beam and a wider window than the partials (keeping the partials' words instead
        cost accuracy: first-shown WER 0.080 against 0.065 on the bench corpus). Only a final
        with fewer words than are committed (a decode that dropped words, or was rejected)
        keeps the committed words, followed by the rest of it."""
        if len(hypothesis) >= len(self.committed):
            return list(hypothesis)
        return self.committed + self._tail(hypothesis)
