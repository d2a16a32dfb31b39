"""The recogniser thread: decode jobs in, Partial / Final events out.

Finals are queued FIFO and always run; partial and speculative decodes share one "latest wins"
slot (a newer one makes an older one stale) and run only when no final waits. Per segment it
keeps the local agreement (committed words only grow while partials are shown; the final is
its own whole-segment decode), the speculative decode made at a pause
(reused by the final when the pause ended the segment), and the language once heard clearly.
A final is identified (speaker), emitted, then handed to `on_final` (the downstream thread).

Revisions (issue 8): a "revise" job re-decodes several emitted finals as one window, times its
words and gives each final the words whose midpoint falls in its time range
(`engine.asr.revision`); every final whose text changed (and passes the guards and the
not-worse checks) gets a `FinalRevised`, handed to `on_revised` (translated again, never
spoken again). Earlier finals leading the window as context are not revised again, and a pass
whose lines are all long and were decoded confidently is skipped (`SURE_LINE_S`). Revise jobs
are optional work: they run only when no final and no partial waits, stop after their encoder
pass when a final arrives meanwhile (to run again after it), and are dropped when the
recogniser is behind live speech or hurried by a Stop.

Language revisions (auto language): a line whose language was an unsure guess made with nothing
to go by (typically the first line of a session: espeak German "Guten Morgen." comes back as
Chinese) is decoded again in the language the session has since settled on, at the next revise
job, and replaced by a `FinalRevised` in that language.

Collaborators are handed in explicitly; nothing here knows the pipeline.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.asr import revision
from engine.asr.agreement import LocalAgreement
from engine.asr.language import LanguagePrior
from engine.asr.text import join_units, split_units
from engine.asr.whisper import INTERRUPTED, Hypothesis, Transcriber
from engine.audio import SAMPLE_RATE
from engine.audio.echo import EchoGuard
from engine.errors import DragomanError
from engine.events import (
    Event,
    Final,
    FinalRevised,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    Stage,
    StageFailure,
    StageTimes,
    Word,
)
from engine.segments import DecodeJob, SegmentSpan
from engine.speakers.base import SpeakerIdentifier

log = logging.getLogger(__name__)

HURRY_BACKLOG_S = 8.0  # audio waiting for final decodes beyond which decoding gets cheaper
LANGUAGE_LOCK_MIN_S = 1.0  # auto language: a segment keeps the language detected on ...
LANGUAGE_LOCK_MIN_PROB = 0.75  # ... this much audio with this much confidence

EventCallback = Callable[[Event], None]
FinalCallback = Callable[[Final, np.ndarray], None]
RevisedCallback = Callable[[FinalRevised], None]
KEPT_FINALS = 64  # emitted finals remembered for revisions
REVISION_TRIES = 3  # a revision interrupted by live finals this often is given up
UNSURE_LANGUAGE_PROB = LANGUAGE_LOCK_MIN_PROB  # auto language: a guess below this is unsure ...
UNSURE_MAX_S = 6.0  # ... and a line this short is kept to be decoded again once the session ...
SETTLED_WEIGHT = 0.8  # ... gives this share of its evidence to one language ...
SETTLED_LINES = 2  # ... and the lines since were in that language
KEPT_UNSURE = 4  # unsure lines kept at most (the oldest is let go)


def _next_revision(line: Final | FinalRevised) -> int:
    return line.revision + 1 if isinstance(line, FinalRevised) else 1


@dataclass
class _UnsureLine:
    """A final whose language was an unsure guess, kept for a language revision."""

    audio: np.ndarray
    later: list[str | None] = field(default_factory=list)  # languages of the finals since


# A revision pass is skipped when every line it would revise lasts at least SURE_LINE_S and was
# decoded with a mean token log-probability of at least SURE_LINE_LOGPROB: such a line rarely
# changes (on the bench corpus the lines a revision improved were short or scored -0.38 to
# -0.78; long lines above -0.35 never changed), and each pass costs a 10 s+ encoder window
SURE_LINE_S = 2.0
SURE_LINE_LOGPROB = -0.35


@dataclass(frozen=True, slots=True)
class _Decoded:
    length: int  # samples of audio decoded
    hypothesis: Hypothesis
    started: float
    done: float


@dataclass
class _SegmentState:
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    speculative: _Decoded | None = None  # the decode made when the speaker paused
    lang: str | None = None
    partial_emitted: bool = False


class Recogniser(threading.Thread):
    """Decodes `DecodeJob`s on its own thread (see the module doc).

    live: audio arrives at the pace of speech, so a growing backlog means falling behind; then
    finals decode greedily without fallback until it is gone (finals are never dropped).
    word_timestamps: time every word of each final (one more encoder pass per final).
    on_revised: receives every `FinalRevised` after it was emitted.
    """

    def __init__(
        self,
        transcriber: Transcriber,
        *,
        emit: EventCallback,
        on_final: FinalCallback,
        identifier: SpeakerIdentifier | None = None,
        echo_guard: EchoGuard | None = None,
        live: bool = True,
        word_timestamps: bool = False,
        on_revised: RevisedCallback | None = None,
    ) -> None:
        super().__init__(name="dragoman-asr", daemon=True)
        self.transcriber = transcriber
        self.emit = emit
        self.on_final = on_final
        self.identifier = identifier
        self.echo_guard = echo_guard
        self.live = live
        self.word_timestamps = word_timestamps
        self.on_revised = on_revised
        self._cond = threading.Condition()
        self._queue: collections.deque[DecodeJob] = collections.deque()
        self._revisions: collections.deque[DecodeJob] = collections.deque()
        self._finals: collections.OrderedDict[int, Final | FinalRevised] = (
            collections.OrderedDict()
        )  # the latest text of each emitted final, for revisions
        self._unsure: collections.OrderedDict[int, _UnsureLine] = collections.OrderedDict()
        self._latest: DecodeJob | None = None  # the pending partial / speculative decode
        self._interrupted: dict[tuple[int, int], int] = {}  # revise job -> times it gave way
        self._closing = False
        self._hurry = False
        self._busy = False
        self.segments: dict[int, _SegmentState] = {}
        self.languages = LanguagePrior()  # what this session has sounded like (auto language)
        self.last_rtf: float | None = None

    # ------------------------------------------------------------------ producer side
    def submit(self, job: DecodeJob) -> None:
        with self._cond:
            if job.kind in ("partial", "speculative"):
                self._latest = job
            elif job.kind == "revise":
                self._revisions.append(job)
            else:
                if self._latest is not None and self._latest.segment_id == job.segment_id:
                    self._latest = None  # the final decode supersedes it
                self._queue.append(job)
            self._cond.notify()

    def idle(self) -> bool:
        """Nothing to decode but (optional) revisions: a live partial would run next."""
        with self._cond:
            return not self._busy and not self._queue and self._latest is None

    def backlog_seconds(self) -> float:
        with self._cond:
            return sum(len(j.audio) for j in self._queue) / SAMPLE_RATE

    def hurry(self) -> None:
        """The user stopped and waits: from now on finals decode greedily without the
        temperature fallback (several times cheaper), so Stop returns soon however far behind
        the recogniser was. No final is dropped."""
        with self._cond:
            self._hurry = True
            self._revisions.clear()  # optional work: nobody waits for it after a Stop

    def close(self) -> None:
        """Finish every queued final (a pending partial is dropped), then end the thread."""
        with self._cond:
            self._closing = True
            self._latest = None
            self._cond.notify()

    # ------------------------------------------------------------------ consumer side
    def run(self) -> None:
        while True:
            with self._cond:
                while (
                    not self._queue
                    and self._latest is None
                    and not self._revisions
                    and not self._closing
                ):
                    self._cond.wait()
                if self._queue:
                    job = self._queue.popleft()
                elif self._latest is not None and not self._closing:
                    job, self._latest = self._latest, None
                elif self._revisions:
                    job = self._revisions.popleft()
                else:
                    return
                self._busy = True
            try:
                self._handle(job)
            except Exception as exc:  # a decode failure must not kill the session
                if not isinstance(exc, DragomanError):
                    log.exception("recogniser failed on %s job", job.kind)
                message = (
                    str(exc) if isinstance(exc, DragomanError) else f"Recognition failed: {exc}"
                )
                self.emit(StageFailure(message, Stage.ASR, at=time.monotonic()))
                if job.kind == "final":
                    self._discard(job.segment_id, "recognition failed")
            finally:
                with self._cond:
                    self._busy = False

    def _handle(self, job: DecodeJob) -> None:
        state = self.segments.setdefault(job.segment_id, _SegmentState())
        if job.kind == "drop":
            self._discard(job.segment_id, "too short to be speech")
            return
        if job.kind == "final":
            self._finalize(job, state)
            self.segments.pop(job.segment_id, None)
            return
        if job.kind == "revise":
            self.segments.pop(job.segment_id, None)
            if not self._hurry:
                self._revise_languages()
            self._revise(job)
            return
        hyp, started, done = self._decode(job, state, final=job.kind == "speculative")
        if job.kind == "speculative":
            state.speculative = _Decoded(len(job.audio), hyp, started, done)
        if hyp.rejected or not hyp.text:
            return
        agreed = state.agreement.update(split_units(hyp.text, hyp.lang))
        state.partial_emitted = True
        self.emit(
            Partial(
                segment_id=job.segment_id,
                start=job.start_sample / SAMPLE_RATE,
                end=job.end_sample / SAMPLE_RATE,
                committed=join_units(list(agreed.committed), hyp.lang),
                tentative=join_units(list(agreed.tentative), hyp.lang),
                lang=hyp.lang,
                times=StageTimes(
                    asr_start_at=started, asr_done_at=done, emitted_at=time.monotonic()
                ),
            )
        )

    def _decode(
        self, job: DecodeJob, state: _SegmentState, final: bool
    ) -> tuple[Hypothesis, float, float]:
        start = time.monotonic()
        behind = self.live and self.backlog_seconds() > HURRY_BACKLOG_S
        if final and (behind or self._hurry):
            final = False  # behind live speech: greedy, no fallback, until the backlog is gone
        hyp = self.transcriber.transcribe(
            job.audio,
            language=state.lang,
            final=final,
            partial=job.kind == "partial",
            session_languages=self.languages,
        )
        done = time.monotonic()
        if hyp.audio_s > 0:
            self.last_rtf = hyp.decode_s / max(hyp.audio_s, 1e-3)
        if (
            state.lang is None
            and hyp.lang
            and not hyp.rejected
            and hyp.audio_s >= LANGUAGE_LOCK_MIN_S
            and (hyp.lang_probability or 0.0) >= LANGUAGE_LOCK_MIN_PROB
        ):
            state.lang = hyp.lang  # keep one language per segment once it is heard clearly
        return hyp, start, done

    def _discard(self, segment_id: int, reason: str) -> None:
        """Forget a segment that yields no final; withdraw its partial line if one was shown."""
        state = self.segments.pop(segment_id, None)
        if state is not None and state.partial_emitted:
            self.emit(SegmentDiscarded(segment_id, reason))

    def _finalize(self, job: DecodeJob, state: _SegmentState) -> None:
        guard = self.echo_guard
        if guard is not None and guard.should_drop_segment(
            job.audio, job.start_at, job.speech_end_at
        ):
            log.info("segment %d dropped: it is our own speech (echo)", job.segment_id)
            self._discard(job.segment_id, "our own speech (echo)")
            return
        spec = state.speculative
        if spec is not None and spec.length == job.reuse_length:
            hyp, started, done = spec.hypothesis, spec.started, spec.done
            log.debug("segment %d: final reuses the speculative decode", job.segment_id)
        else:
            hyp, started, done = self._decode(job, state, final=True)
        units = [] if hyp.rejected else split_units(hyp.text, hyp.lang)
        words = state.agreement.finalize(units)
        text = join_units(words, hyp.lang).strip()
        if not text:
            self._discard(job.segment_id, hyp.rejected or "no words")
            return
        speaker, speaker_done = self._identify(job.audio)
        timed = self._time_words(job, text, hyp.lang) if self.word_timestamps else ()
        final = Final(
            segment_id=job.segment_id,
            start=job.start_sample / SAMPLE_RATE,
            end=job.end_sample / SAMPLE_RATE,
            text=text,
            lang=hyp.lang,
            times=StageTimes(
                audio_end_at=job.speech_end_at,
                vad_end_at=job.vad_end_at,
                asr_start_at=started,
                asr_done_at=done,
                speaker_done_at=speaker_done,
                emitted_at=time.monotonic(),
            ),
            speaker=speaker,
            avg_logprob=hyp.avg_logprob,
            no_speech_prob=hyp.no_speech_prob,
            words=timed,
        )
        self.languages.observe(dict(hyp.detected), hyp.audio_s)  # guides later guesses
        for unsure in self._unsure.values():
            unsure.later.append(final.lang)
        if (
            hyp.lang_probability is not None  # the language was detected, not given
            and hyp.lang_probability < UNSURE_LANGUAGE_PROB
            and len(job.audio) <= UNSURE_MAX_S * SAMPLE_RATE
        ):
            self._unsure[final.segment_id] = _UnsureLine(job.audio.copy())
            while len(self._unsure) > KEPT_UNSURE:
                self._unsure.popitem(last=False)
        self.emit(final)
        self._finals[final.segment_id] = final
        while len(self._finals) > KEPT_FINALS:
            self._finals.popitem(last=False)
        self.on_final(final, job.audio)

    def _publish(self, revised: FinalRevised) -> None:
        """Remember a revision as the line's latest text, emit it, and hand it downstream."""
        self._finals[revised.segment_id] = revised
        self.emit(revised)
        if self.on_revised is not None:
            self.on_revised(revised)

    def _revise_languages(self) -> None:
        """Decode unsure lines again in the language the session settled on since (see the
        module doc); a line already in that language, or whose new decode is rejected, stays."""
        weights = self.languages.weights()
        if not self._unsure or not weights:
            return
        settled = max(weights, key=weights.__getitem__)
        if weights[settled] < SETTLED_WEIGHT:
            return
        for segment_id, unsure in list(self._unsure.items()):
            recent = unsure.later[-SETTLED_LINES:]
            if len(recent) < SETTLED_LINES or any(lang != settled for lang in recent):
                continue  # the session has not settled since this line
            del self._unsure[segment_id]
            old = self._finals.get(segment_id)
            if old is None or old.lang == settled:
                continue
            started = time.monotonic()
            hyp = self.transcriber.transcribe(
                unsure.audio, language=settled, final=True, session_languages=self.languages
            )
            text = join_units(split_units(hyp.text, settled), settled).strip()
            if hyp.rejected or not text:
                log.debug("segment %d kept in %s: %s", segment_id, old.lang, hyp.rejected)
                continue
            log.debug("segment %d: %s %r -> %s %r", segment_id, old.lang, old.text, settled, text)
            revised = FinalRevised(
                segment_id=segment_id,
                start=old.start,
                end=old.end,
                text=text,
                previous_text=old.text,
                lang=settled,
                times=StageTimes(
                    asr_start_at=started, asr_done_at=time.monotonic(), emitted_at=time.monotonic()
                ),
                speaker=old.speaker,
                revision=_next_revision(old),
            )
            self._publish(revised)

    def _revise(self, job: DecodeJob) -> None:
        """Re-decode the finals of a revise job as one window (see the module doc)."""
        # taken out whatever happens next, so a job that ends early leaves no count behind
        interruptions = self._interrupted.pop((job.segment_id, job.start_sample), 0)
        if self._hurry or (self.live and self.backlog_seconds() > HURRY_BACKLOG_S):
            log.debug("revision of segments up to %d skipped: behind", job.segment_id)
            return
        known = [s for s in job.spans if s.segment_id in self._finals]
        if len(known) < 2 or all(s.context for s in known):
            return  # fewer than two of them gave a final, or none to revise: nothing to gain
        if all(self._sure(s) for s in known if not s.context):
            log.debug("revision up to segment %d skipped: long, confident lines", job.segment_id)
            return
        langs = {self._finals[s.segment_id].lang for s in known}
        if len(langs) > 1:
            # one window, one language: decoded as either, the other's lines would be replaced
            # by nonsense (scored in the wrong language, the old text looks unlikely too)
            log.debug("revision up to segment %d skipped: languages %s", job.segment_id, langs)
            return
        language = langs.pop()  # None: the finals' language was not known, detect it
        started = time.monotonic()
        # greedy, no temperature fallback: about half the time of a beam of 3 on long windows
        # (15 s of speech: 1.1-1.7 s against 1.3-3.1 s on 2 loaded cores) and, on the
        # bench corpus, no worse (WER after revisions 0.043 against 0.051 with the beam)
        hyp = self.transcriber.transcribe(
            job.audio,
            language=language,
            final=False,
            session_languages=self.languages,
            stop=self._final_waits,
        )
        if hyp.rejected == INTERRUPTED:
            self._give_way(job, interruptions + 1)
            return
        if hyp.rejected or not hyp.text or hyp.avg_logprob < self._log_prob_threshold():
            log.debug("revision up to segment %d refused: %s", job.segment_id, hyp.rejected)
            return
        old_text = " ".join(self._finals[s.segment_id].text for s in known)
        if revision.normalized(hyp.text, hyp.lang) == revision.normalized(old_text, hyp.lang):
            log.debug("revision up to segment %d: no word changed", job.segment_id)
            return  # the common case: no alignment needed
        offset = job.start_sample / SAMPLE_RATE
        spans = [
            revision.Span(s.segment_id, s.start_sample / SAMPLE_RATE, s.end_sample / SAMPLE_RATE)
            for s in known
        ]
        context = {s.segment_id for s in known if s.context}
        options = self.transcriber.options

        def judged(old_words: dict[int, list[Word]]) -> dict[int, revision.Judgement]:
            return {
                segment_id: revision.judge(
                    self._finals[segment_id].text,
                    seg_words,
                    hyp.lang,
                    avg_logprob=hyp.avg_logprob,
                    no_speech_prob=hyp.no_speech_prob,
                    options=options,
                    old_words=old_words.get(segment_id, ()),
                )
                for segment_id, seg_words in new_words.items()
                if segment_id not in context  # decoded for context only
            }

        try:  # the new words timed; the old ones scored on the same window when it matters
            aligned = self.transcriber.align(job.audio, hyp.text, hyp.lang)
            words = [
                replace(w, start=round(offset + w.start, 3), end=round(offset + w.end, 3))
                for w in aligned
            ]
            new_words = revision.assign_words(words, spans)
            verdicts = judged({})
            if any(v.changed for v in verdicts.values()):
                old_aligned = self.transcriber.align(job.audio, old_text, hyp.lang)
                scored = [
                    replace(w, start=offset + w.start, end=offset + w.end) for w in old_aligned
                ]
                verdicts = judged(revision.assign_words(scored, spans))
        except Exception:
            log.exception("word alignment failed for the revision up to %d", job.segment_id)
            return
        done = time.monotonic()
        log.debug("revision of segments %s: %r", [s.segment_id for s in known], hyp.text)
        for segment_id, verdict in verdicts.items():
            old = self._finals[segment_id]
            if not verdict.changed:
                log.debug("segment %d not revised: %s", segment_id, verdict.reason)
                continue
            seg_words = new_words[segment_id]
            revised = FinalRevised(
                segment_id=segment_id,
                start=old.start,
                end=old.end,
                text=verdict.text,
                previous_text=old.text,
                lang=hyp.lang,
                times=StageTimes(
                    audio_end_at=job.speech_end_at,
                    vad_end_at=job.vad_end_at,
                    asr_start_at=started,
                    asr_done_at=done,
                    emitted_at=time.monotonic(),
                ),
                speaker=old.speaker,
                revision=_next_revision(old),
                words=tuple(seg_words) if self.word_timestamps else (),
            )
            self._publish(revised)

    def _final_waits(self) -> bool:
        """A final, or the speculative decode that becomes one, is queued: a revision decode
        stops after its encoder pass, so that a final waits for no revision decoding."""
        with self._cond:
            latest = self._latest
            return bool(self._queue) or (latest is not None and latest.kind == "speculative")

    def _give_way(self, job: DecodeJob, interruptions: int) -> None:
        """Put an interrupted revision back at the head of the revisions, to run once the live
        work is done; after `REVISION_TRIES` interruptions its lines keep their first text."""
        if interruptions >= REVISION_TRIES:
            log.debug(
                "revision up to segment %d given up: interrupted %d times",
                job.segment_id,
                interruptions,
            )
            return
        self._interrupted[(job.segment_id, job.start_sample)] = interruptions
        with self._cond:
            self._revisions.appendleft(job)
        log.debug("revision up to segment %d gives way to a final", job.segment_id)

    def _sure(self, span: SegmentSpan) -> bool:
        """A line long and confidently decoded enough not to be worth a revision pass."""
        final = self._finals[span.segment_id]
        logprob = final.avg_logprob if isinstance(final, Final) else None
        long = span.end_sample - span.start_sample >= SURE_LINE_S * SAMPLE_RATE
        return long and logprob is not None and logprob >= SURE_LINE_LOGPROB

    def _log_prob_threshold(self) -> float:
        return self.transcriber.options.log_prob_threshold

    def _time_words(self, job: DecodeJob, text: str, lang: str | None) -> tuple[Word, ...]:
        """The final's words timed in the source (() when alignment fails: the text stays)."""
        offset = job.start_sample / SAMPLE_RATE
        try:
            words = self.transcriber.align(job.audio, text, lang)
        except Exception:
            log.exception("word alignment failed for segment %d", job.segment_id)
            return ()
        return tuple(
            replace(w, start=round(offset + w.start, 3), end=round(offset + w.end, 3))
            for w in words
        )

    def _identify(self, audio: np.ndarray) -> tuple[str | None, float | None]:
        """The speaker label of a final's audio (None when unknown or when it failed: the text
        matters more than the label, so a failure never loses the final)."""
        if self.identifier is None:
            return None, None
        speaker = None
        try:
            match = self.identifier.identify(audio)
            speaker = match.label
            if match.is_new and speaker:
                self.emit(SpeakerChanged(None, speaker))
        except Exception as exc:
            if not isinstance(exc, DragomanError):
                log.exception("speaker identification failed")
            self.emit(
                StageFailure(
                    f"Speaker identification failed: {exc}", Stage.SPEAKER, at=time.monotonic()
                )
            )
        return speaker, time.monotonic()
