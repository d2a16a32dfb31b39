"""The engine: frames -> VAD -> streaming ASR -> speaker id -> translation -> speech.

Threads:
- the caller's thread runs `run(source)`: it reads frames, runs the VAD and the segmenter and
  hands decode jobs to the recogniser;
- the recogniser thread (`_Recogniser`) decodes partials, speculative finals and finals, keeps
  the local agreement per segment, identifies the speaker and emits Partial/Final events;
- the downstream thread (`_Downstream`) translates final text sentence by sentence and feeds
  speech synthesis / playback, so a slow translator never stalls capture.

Latency: when the VAD first hears a pause, the segment so far is decoded at once
("speculative final"). If the pause lasts long enough to end the segment and no speech came back,
that result *is* the final — no decode is left to do after the silence.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.asr.agreement import LocalAgreement
from engine.asr.text import join_units, split_units
from engine.asr.whisper import Hypothesis
from engine.audio.history import AudioHistory
from engine.audio.sources import AudioBlock, FrameSource
from engine.config import EngineConfig
from engine.errors import DragomanError
from engine.events import (
    EngineError,
    Event,
    Final,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeakerChanged,
    SpeechStarted,
    StageTimes,
    Stats,
    Translation,
)
from engine.sentences import split_sentences
from engine.vad import WINDOW, Segmenter, SileroVad

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
STATS_INTERVAL_S = 0.5  # while draining after the source ended
HURRY_BACKLOG_S = 8.0  # audio waiting for final decodes beyond which decoding gets cheaper
SPECULATIVE_DELAY_S = 0.1  # silence heard before the speculative final decode starts
FIRST_PARTIAL_S = 0.5  # segment audio (pre-padding included) before the first partial
LANGUAGE_LOCK_MIN_S = 1.0  # auto language: a segment keeps the language detected on ...
LANGUAGE_LOCK_MIN_PROB = 0.75  # ... this much audio with this much confidence
EventCallback = Callable[[Event], None]


@dataclass
class _Job:
    kind: str  # "partial" | "speculative" | "final"
    segment_id: int
    audio: np.ndarray
    start_sample: int
    end_sample: int
    speech_end_at: float | None = None  # monotonic time the last speech sample arrived
    start_at: float | None = None  # monotonic capture time of the first sample
    vad_end_at: float | None = None
    reuse_length: int | None = None  # final: reuse a speculative decode of exactly this length
    language: str | None = None


@dataclass(frozen=True)
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


class _Recogniser(threading.Thread):
    """Decodes jobs: finals are queued FIFO and always run; partial and speculative decodes
    share one 'latest wins' slot (a newer one makes an older one stale) and run only when no
    final waits."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(name="dragoman-asr", daemon=True)
        self.p = pipeline
        self._cond = threading.Condition()
        self._queue: collections.deque[_Job] = collections.deque()
        self._partial: _Job | None = None
        self._closing = False
        self.busy = False
        self.segments: dict[int, _SegmentState] = {}
        self.languages: dict[str, None] = {}  # heard clearly in this session, in order
        self.last_rtf: float | None = None

    # -- producer side (frame thread) --
    def submit(self, job: _Job) -> None:
        with self._cond:
            if job.kind in ("partial", "speculative"):
                self._partial = job
            else:
                if self._partial is not None and self._partial.segment_id == job.segment_id:
                    self._partial = None  # the final decode supersedes it
                self._queue.append(job)
            self._cond.notify()

    def idle(self) -> bool:
        with self._cond:
            return not self.busy and not self._queue and self._partial is None

    def backlog_seconds(self) -> float:
        with self._cond:
            return sum(len(j.audio) for j in self._queue) / SAMPLE_RATE

    def close(self) -> None:
        """Finish every queued final (partials are dropped), then stop."""
        with self._cond:
            self._closing = True
            self._partial = None
            self._cond.notify()

    # -- consumer side --
    def run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and self._partial is None and not self._closing:
                    self._cond.wait()
                if self._queue:
                    job = self._queue.popleft()
                elif self._partial is not None and not self._closing:
                    job, self._partial = self._partial, None
                else:
                    return
                self.busy = True
            try:
                self._handle(job)
            except Exception as exc:  # a decode failure must not kill the session
                if not isinstance(exc, DragomanError):
                    log.exception("recogniser failed on %s job", job.kind)
                message = (
                    str(exc) if isinstance(exc, DragomanError) else f"Recognition failed: {exc}"
                )
                self.p._emit(EngineError(message, "asr", at=time.monotonic()))
                if job.kind == "final":
                    self._discard(job.segment_id, "recognition failed")
            finally:
                with self._cond:
                    self.busy = False

    def _decode(
        self, job: _Job, state: _SegmentState, final: bool
    ) -> tuple[Hypothesis, float, float]:
        start = time.monotonic()
        if final and self.p.live and self.backlog_seconds() > HURRY_BACKLOG_S:
            final = False  # behind live speech: greedy, no fallback, until the backlog is gone
        hyp = self.p.transcriber.transcribe(
            job.audio, language=state.lang, final=final, session_languages=tuple(self.languages)
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
            self.languages[hyp.lang] = None  # and let them guide unsure guesses later
        return hyp, start, done

    def _handle(self, job: _Job) -> None:
        state = self.segments.setdefault(job.segment_id, _SegmentState())
        if job.kind == "drop":
            self._discard(job.segment_id, "too short to be speech")
            return
        if job.kind == "final":
            self._finalize(job, state)
            self.segments.pop(job.segment_id, None)
            return
        hyp, started, done = self._decode(job, state, final=job.kind == "speculative")
        if job.kind == "speculative":
            state.speculative = _Decoded(len(job.audio), hyp, started, done)
        if hyp.rejected or not hyp.text:
            return
        agreed = state.agreement.update(split_units(hyp.text, hyp.lang))
        lang = hyp.lang
        state.partial_emitted = True
        self.p._emit(
            Partial(
                segment_id=job.segment_id,
                start=job.start_sample / SAMPLE_RATE,
                end=job.end_sample / SAMPLE_RATE,
                committed=join_units(list(agreed.committed), lang),
                tentative=join_units(list(agreed.tentative), lang),
                lang=lang,
                times=StageTimes(
                    asr_start_at=started, asr_done_at=done, emitted_at=time.monotonic()
                ),
            )
        )

    def _discard(self, segment_id: int, reason: str) -> None:
        """Forget a segment that yields no final; withdraw its partial line if one was shown."""
        state = self.segments.pop(segment_id, None)
        if state is not None and state.partial_emitted:
            self.p._emit(SegmentDiscarded(segment_id, reason))

    def _finalize(self, job: _Job, state: _SegmentState) -> None:
        guard = self.p.echo_guard
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
            log.debug(
                "segment %d: final decode (speculative %s, wanted %s)",
                job.segment_id,
                spec.length if spec else None,
                job.reuse_length,
            )
            hyp, started, done = self._decode(job, state, final=True)
        units = [] if hyp.rejected else split_units(hyp.text, hyp.lang)
        words = state.agreement.finalize(units)
        text = join_units(words, hyp.lang).strip()
        if not text:
            self._discard(job.segment_id, hyp.rejected or "no words")
            return
        speaker = None
        speaker_done = None
        if self.p.speaker_identifier is not None:
            try:
                match = self.p.speaker_identifier.identify(job.audio)
                speaker = match.label
                if match.is_new and speaker:
                    self.p._emit(SpeakerChanged(None, speaker))
            except Exception as exc:  # the text matters more than the label: keep the final
                if not isinstance(exc, DragomanError):
                    log.exception("speaker identification failed")
                self.p._emit(
                    EngineError(
                        f"Speaker identification failed: {exc}", "speaker", at=time.monotonic()
                    )
                )
            speaker_done = time.monotonic()
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
        )
        self.p._emit(final)
        self.p._final_ready(final, job.audio)


class _Downstream(threading.Thread):
    """Translation (and speech) of finals, strictly in order, never dropping a sentence."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(name="dragoman-downstream", daemon=True)
        self.p = pipeline
        self._queue: collections.deque[tuple[Final, np.ndarray]] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self.pending_sentences = 0

    def submit(self, final: Final, audio: np.ndarray) -> None:
        with self._cond:
            self._queue.append((final, audio))
            self.pending_sentences += len(split_sentences(final.text))
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                final, audio = self._queue.popleft()
            try:
                self._handle(final, audio)
            except DragomanError as exc:
                self.p._emit(EngineError(str(exc), "nmt", at=time.monotonic()))
            except Exception as exc:
                log.exception("downstream stage failed")
                self.p._emit(EngineError(f"Translation failed: {exc}", "nmt", at=time.monotonic()))
            finally:
                with self._cond:
                    self.pending_sentences = max(
                        0, self.pending_sentences - len(split_sentences(final.text))
                    )

    def _handle(self, final: Final, audio: np.ndarray) -> None:
        target = self.p.config.translation.target_lang
        translation: Translation | None = None
        if target:
            translation = self.p._translate(final)
            if translation is not None:
                self.p._emit(translation)
        if self.p.speech is not None:
            self.p.speech.speak(final, translation)


class Pipeline:
    """Wires the stages. `load()` (slow) then `run(source)` (blocks); `stop()` from any thread."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        on_event: EventCallback | None = None,
        *,
        transcriber: Any = None,
        speaker_identifier: Any = None,
        translator: Any = None,
        speech: Any = None,
        speech_output: Path | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.on_event = on_event or (lambda event: None)
        self.transcriber = transcriber
        self.speaker_identifier = speaker_identifier
        self.translator = translator
        self.speech = speech
        self.speech_output = speech_output  # WAV of the synthesised speech on the source timeline
        self.vad: SileroVad | None = None
        self._stop = threading.Event()
        self._source: FrameSource | None = None
        self._emit_lock = threading.RLock()  # a consumer may call back into the pipeline
        self._recogniser: _Recogniser | None = None
        self._downstream: _Downstream | None = None
        self.backends: dict[str, str] = {"vad": "local", "asr": "local"}
        self.loaded = False
        self._run_lock = threading.Lock()
        self._running = False
        self._hears_room = False  # the source is a capture device (echo guard applies)
        self.live = False  # frames arrive at the pace of speech (a backlog means falling behind)
        self._consumed = 0  # samples read from the source so far

    # ----------------------------------------------------------------- loading
    def load(self) -> None:
        """Load every model the config needs (raises DragomanError with a readable message)."""
        from engine.asr.whisper import WhisperTranscriber, check_language

        cfg = self.config
        check_language(cfg.asr.language)
        if self.vad is None:
            self.vad = SileroVad()
        if self.transcriber is None:
            self.transcriber = WhisperTranscriber(cfg.asr)
        self._load_optional_stages()
        self.loaded = True

    def _load_optional_stages(self) -> None:
        """Speaker id, translation and speech; each is optional and loaded lazily by config."""
        from engine import stages

        stages.load_optional(self)

    # ----------------------------------------------------------------- events
    def _emit(self, event: Event) -> None:
        with self._emit_lock:
            try:
                self.on_event(event)
            except Exception:  # a broken consumer must not kill the engine
                log.exception("event consumer failed on %s", type(event).__name__)

    @property
    def echo_guard(self) -> Any:
        """The speech stage's echo guard, when Dragoman speaks into the room it listens to
        (None otherwise: a file cannot hear the loudspeaker)."""
        if self.speech is None or not self._hears_room:
            return None
        return getattr(self.speech, "echo_guard", None)

    def source_clock(self) -> float:
        """Seconds of source audio consumed so far (the player's lag reference)."""
        return self._consumed / SAMPLE_RATE

    def _final_ready(self, final: Final, audio: np.ndarray) -> None:
        if self._downstream is not None:
            self._downstream.submit(final, audio)

    def _translate(self, final: Final) -> Translation | None:
        from engine import stages

        return stages.translate_final(self, final)

    def set_volume(self, volume: float) -> None:
        """Speech volume (0..1+), applied live to the playing speech."""
        self.config = replace(self.config, speech=replace(self.config.speech, volume=volume))
        player = getattr(self.speech, "player", None)
        if player is not None:
            player.options = replace(player.options, volume=volume)

    def rename_speaker(self, old: str, new: str) -> None:
        """Rename a speaker label for the rest of the session (raises ConfigError if unknown)."""
        if self.speaker_identifier is not None:
            self.speaker_identifier.rename(old, new)
            self._emit(SpeakerChanged(old, new))

    # ----------------------------------------------------------------- control
    def stop(self) -> None:
        """Stop capture; `run` flushes the open segment, finishes queued work and returns.

        A stop is never lost: with no run active it stops the next run as soon as it starts.
        A caller that reuses the pipeline calls `reset_stop()` just before `run()` to forget a
        stop that arrived after the previous run had already ended."""
        with self._run_lock:
            self._stop.set()
            source = self._source if self._running else None
        if source is not None:
            source.close()

    def reset_stop(self) -> None:
        """Forget a stop requested while no run was active (see `stop`)."""
        with self._run_lock:
            if not self._running:
                self._stop.clear()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, source: FrameSource, *, realtime: bool | None = None) -> None:
        """Process `source` until it ends or `stop()` is called.

        realtime: whether frames arrive at the pace of speech (microphone, paced file); partials
        and speculative decodes are only worth their cost then. Default: the source's own
        `realtime` attribute, True for devices.
        """
        with self._run_lock:
            self._source = source
            self._running = True
            self._hears_room = bool(getattr(source, "hears_room", False))
        if not self.loaded:
            self.load()
        if realtime is None:
            realtime = bool(getattr(source, "realtime", True))
        self.live = realtime
        if self._stop.is_set():
            source.close()
        self._recogniser = _Recogniser(self)
        self._recogniser.start()
        needs_downstream = bool(self.config.translation.target_lang) or self.speech is not None
        self._downstream = _Downstream(self) if needs_downstream else None
        if self._downstream is not None:
            self._downstream.start()
        error: BaseException | None = None
        try:
            self._frame_loop(source, realtime)
        except BaseException as exc:  # flushed by the frame loop; reported below
            error = exc
        try:
            self._recogniser.close()
            self._join_reporting(self._recogniser, source)
            if self._downstream is not None:
                self._downstream.close()
                self._join_reporting(self._downstream, source)
            if self.speech is not None and hasattr(self.speech, "drain"):
                self.speech.drain(
                    stop=self._stop.is_set() or error is not None,
                    total_duration=self._consumed / SAMPLE_RATE,
                )
        except BaseException as exc:  # e.g. the output device vanished while draining
            error = error or exc
        finally:
            source.close()
            self._emit_stats(source, self._consumed, 0.0, 0)  # everything drained
            with self._run_lock:
                stopped = self._stop.is_set()
                self._stop.clear()  # a loaded pipeline may run another source
                self._running = False
        if error is not None:
            message = str(error) if isinstance(error, DragomanError) else repr(error)
            self._emit(EngineError(message, "audio", fatal=True, at=time.monotonic()))
            self._emit(Finished(time.monotonic(), reason="error"))
            raise error
        self._emit(Finished(time.monotonic(), reason="stopped" if stopped else "end"))

    def _frame_loop(self, source: FrameSource, realtime: bool) -> None:
        assert self.vad is not None and self._recogniser is not None
        cfg = self.config
        self.vad.reset()
        segmenter = Segmenter(cfg.vad)
        history = AudioHistory(cfg.vad.max_segment_s + 10.0)
        arrivals: collections.deque[tuple[int, float]] = collections.deque(maxlen=4096)
        pending = np.zeros(0, dtype=np.float32)
        segment_id = 0
        seg_start: int | None = None
        spec_at: int | None = None  # pause position awaiting a speculative decode
        spec_length: int | None = None  # length of the speculative decode since the last pause
        spec_delay = int(SPECULATIVE_DELAY_S * SAMPLE_RATE)
        last_partial_len = 0
        partial_step = int(cfg.asr.partial_interval_s * SAMPLE_RATE)
        first_partial = int(FIRST_PARTIAL_S * SAMPLE_RATE)
        partials = realtime and cfg.asr.partials
        next_stats = SAMPLE_RATE
        level_sum, level_n = 0.0, 0
        recogniser = self._recogniser

        def arrival_of(sample: int) -> float | None:
            """When the block holding `sample` arrived."""
            for end, at in arrivals:
                if end >= sample:
                    return at
            return arrivals[-1][1] if arrivals else None

        def submit_final(
            end: int, vad_end_at: float, speech_end: int, *, reuse: bool = True
        ) -> None:
            nonlocal seg_start
            assert seg_start is not None
            audio = history.slice(seg_start, end)
            recogniser.submit(
                _Job(
                    "final",
                    segment_id,
                    audio,
                    seg_start,
                    end,
                    speech_end_at=arrival_of(speech_end),
                    start_at=arrival_of(seg_start),
                    vad_end_at=vad_end_at,
                    reuse_length=spec_length if reuse else None,
                )
            )

        source_error: BaseException | None = None

        def blocks() -> Iterator[AudioBlock]:
            """The source's blocks; a failing source (device lost) just ends them, so the open
            segment is still flushed below before the error is raised."""
            nonlocal source_error
            try:
                yield from source.blocks()
            except Exception as exc:
                source_error = exc

        for block in blocks():
            samples = block.samples
            guard = self.echo_guard
            if guard is not None:
                samples = guard.filter_frame(
                    samples, block.received_at - len(samples) / SAMPLE_RATE
                )
            history.append(samples)
            self._consumed = history.total
            arrivals.append((history.total, block.received_at))
            level_sum += float(np.dot(samples, samples))
            level_n += len(samples)
            pending = np.concatenate([pending, samples]) if len(pending) else samples
            n_windows = len(pending) // WINDOW
            for i in range(n_windows):
                window = pending[i * WINDOW : (i + 1) * WINDOW]
                prob = self.vad.probability(window)
                for ev in segmenter.push(prob):
                    now = time.monotonic()
                    if ev.kind == "start":
                        segment_id += 1
                        seg_start = ev.position
                        spec_at = spec_length = None
                        last_partial_len = 0
                        self._emit(SpeechStarted(segment_id, ev.position / SAMPLE_RATE, now))
                    elif ev.kind == "pause":
                        spec_at = ev.position
                    elif ev.kind == "resume":
                        spec_at = spec_length = None
                    elif ev.kind == "end":
                        submit_final(ev.position, now, segmenter.last_speech_end)
                        seg_start = None
                    elif ev.kind == "drop":
                        recogniser.submit(_Job("drop", segment_id, np.zeros(0, np.float32), 0, 0))
                        seg_start = None
                    elif ev.kind == "split":
                        # a cut inside speech: a speculative decode may run past it
                        submit_final(ev.position, now, ev.position, reuse=False)
                        segment_id += 1
                        seg_start = ev.position
                        spec_at = spec_length = None
                        last_partial_len = 0
                        self._emit(SpeechStarted(segment_id, ev.position / SAMPLE_RATE, now))
                position = segmenter.position
                if seg_start is None or not partials:
                    continue
                if spec_at is not None and position >= spec_at + spec_delay:
                    end = position
                    spec_length = end - seg_start
                    recogniser.submit(
                        _Job(
                            "speculative", segment_id, history.slice(seg_start, end), seg_start, end
                        )
                    )
                    spec_at = None
                    last_partial_len = spec_length
                elif (
                    position - seg_start - last_partial_len
                    >= (partial_step if last_partial_len else first_partial)
                    and segmenter.paused_at is None
                    and recogniser.idle()
                ):
                    last_partial_len = position - seg_start
                    recogniser.submit(
                        _Job(
                            "partial",
                            segment_id,
                            history.slice(seg_start, position),
                            seg_start,
                            position,
                        )
                    )
            pending = pending[n_windows * WINDOW :]
            if history.total >= next_stats:
                next_stats += SAMPLE_RATE
                self._emit_stats(source, history.total, level_sum, level_n)
                level_sum, level_n = 0.0, 0
            if self._stop.is_set():
                break
        for ev in segmenter.flush():
            if seg_start is None:
                break
            if ev.kind == "end":
                submit_final(ev.position, time.monotonic(), segmenter.last_speech_end)
            else:
                recogniser.submit(_Job("drop", segment_id, np.zeros(0, np.float32), 0, 0))
        self._emit_stats(source, history.total, level_sum, level_n)
        if source_error is not None:
            raise source_error

    def _join_reporting(self, thread: threading.Thread, source: FrameSource) -> None:
        """Wait for a stage to finish its queue, reporting the backlog as it drains."""
        while True:
            thread.join(timeout=STATS_INTERVAL_S)
            if not thread.is_alive():
                return
            self._emit_stats(source, self._consumed, 0.0, 0)

    def _emit_stats(self, source: FrameSource, total: int, level_sum: float, level_n: int) -> None:
        rms = math.sqrt(level_sum / level_n) if level_n else 0.0
        rec, down = self._recogniser, self._downstream
        speech_backlog = getattr(self.speech, "backlog", 0) if self.speech is not None else 0
        self._emit(
            Stats(
                at=time.monotonic(),
                source_time=total / SAMPLE_RATE,
                input_level_db=20 * math.log10(max(rms, 1e-10)),
                dropped_blocks=source.dropped_blocks,
                asr_backlog_s=rec.backlog_seconds() if rec else 0.0,
                translation_backlog=down.pending_sentences if down else 0,
                speech_backlog=int(speech_backlog),
                real_time_factor=rec.last_rtf if rec else None,
                stage_backends=dict(self.backends),
            )
        )
