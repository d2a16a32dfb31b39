"""Live accuracy and latency of three live strategies against faster-whisper's batch transcription
of the same recording (issue 8). Used by bench/bench_accuracy.py and the accuracy tests.

Strategies, all paced like a microphone (a block arrives when its audio has been spoken):
- "dragoman": the engine's Pipeline (VAD segmenter, partials, speculative finals, revisions:
  `text` is the finals as first emitted, `revised_text` after every `FinalRevised`);
- "naive": Silero VAD, a segment ends after 500 ms of silence, then faster-whisper
  `transcribe()` decodes it (in the capture thread: it falls behind if decoding is slow);
- "chunks-5s": every 5 s of audio is decoded on its own as soon as it has arrived.

Latency is measured from the *acoustic* end of each utterance (see `corpus.acoustic_end`), the
moment a listener hears the speaker stop, to the moment the text holding that utterance's last
words was available.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from bench.corpus import SAMPLE_RATE, Timeline
from engine.asr.whisper import WhisperTranscriber
from engine.audio.sources import ArraySource, AudioBlock
from engine.config import AsrOptions, EngineConfig, SpeakerOptions, VadOptions
from engine.events import Final, FinalRevised, Partial, SpeechStarted
from engine.metrics import edit_distance, normalize_text
from engine.pipeline import Pipeline
from engine.vad import WINDOW, Segmenter, SileroVad

NAIVE_SILENCE_MS = 500
CHUNK_S = 5.0


@dataclass(frozen=True, slots=True)
class Piece:
    """Text a strategy produced for [start, end) of the recording, available at `at`."""

    start: float
    end: float
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class RunResult:
    strategy: str
    text: str
    latencies: tuple[float | None, ...]  # per utterance, from its acoustic end (None: no text)
    first_partials: tuple[float, ...] = ()  # speech start -> first partial, per segment
    cpu_cores: float | None = None  # process CPU seconds per wall second during the run
    pieces: tuple[Piece, ...] = field(default=(), repr=False)
    revised_text: str | None = None  # the finals after revisions (None: no revision pass)
    revisions: tuple[tuple[str, str], ...] = ()  # (previous text, revised text) per revision
    revision_delays: tuple[float, ...] = ()  # acoustic end of a revised span -> its revision
    revision_waits: tuple[float, ...] = ()  # per final that waited for a revision: how long
    revision_passes: int = 0  # revision decodes run (changed text or not)
    revision_busy_s: float = 0.0  # wall seconds the transcriber spent on revision passes

    @property
    def median_latency(self) -> float | None:
        known = [x for x in self.latencies if x is not None]
        return statistics.median(known) if known else None


def wer_counts(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference words) after the shared normaliser."""
    ref = normalize_text(reference)
    return edit_distance(ref, normalize_text(hypothesis)), len(ref)


def wer(reference: str, hypothesis: str) -> float:
    errors, words = wer_counts(reference, hypothesis)
    return errors / max(words, 1)


def batch_text(transcriber: WhisperTranscriber, timeline: Timeline, language: str | None) -> str:
    """faster-whisper's own `transcribe(vad_filter=True)` of the whole recording at once."""
    segments, _ = transcriber.model.transcribe(timeline.audio, language=language, vad_filter=True)
    return " ".join(s.text.strip() for s in segments)


class _TimedSource(ArraySource):
    """An ArraySource that remembers when its pacing clock started."""

    t0: float = 0.0

    def blocks(self) -> Iterator[AudioBlock]:
        self.t0 = time.monotonic()
        yield from super().blocks()


def _latencies(timeline: Timeline, pieces: Sequence[Piece], t0: float) -> list[float | None]:
    """Per utterance: when the piece holding its last words was available (of the pieces that
    overlap the utterance, the one reaching furthest), from its acoustic end."""
    out: list[float | None] = []
    for u in timeline.utterances:
        overlapping = [p for p in pieces if p.start < u.speech_end and p.end > u.start and p.text]
        if not overlapping:
            out.append(None)
            continue
        last = max(overlapping, key=lambda p: (p.end, -p.at))
        out.append(last.at - (t0 + u.speech_end))
    return out


class _RevisionClock:
    """The real transcriber, noting when the recogniser's revision pass (`Recogniser._revise`)
    keeps it busy, so a bench can tell whether a final had to wait for a revision."""

    def __init__(self, inner: WhisperTranscriber) -> None:
        self.inner = inner
        self.busy: list[tuple[float, float]] = []  # (start, end) of each revision call
        self.passes = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def _timed(self, method: str, *args: object, **kwargs: object) -> object:
        revising = sys._getframe(2).f_code.co_name == "_revise"
        start = time.monotonic()
        try:
            return getattr(self.inner, method)(*args, **kwargs)
        finally:
            if revising:
                self.busy.append((start, time.monotonic()))
                self.passes += method == "transcribe"

    def transcribe(self, *args: object, **kwargs: object) -> object:
        return self._timed("transcribe", *args, **kwargs)

    def align(self, *args: object, **kwargs: object) -> object:
        return self._timed("align", *args, **kwargs)


def _waits(finals: Sequence[Final], busy: Sequence[tuple[float, float]]) -> list[float]:
    """Per final whose decode was queued while a revision ran: how long it waited for it."""
    out = []
    for f in finals:
        queued, started = f.times.vad_end_at, f.times.asr_start_at
        if queued is None or started is None or started < queued:
            continue  # it reused the decode made at the pause: nothing to wait for
        ends = [end for start, end in busy if start <= queued < end]
        if ends:
            out.append(max(ends) - queued)
    return out


def run_dragoman(
    transcriber: WhisperTranscriber,
    timeline: Timeline,
    *,
    language: str | None = "en",
    vad: VadOptions | None = None,
    realtime: bool = True,
    revisions: bool = True,
) -> RunResult:
    """The engine, paced in real time (or as fast as it goes with `realtime=False`)."""
    config = EngineConfig(
        asr=AsrOptions(language=language, revisions=revisions),
        vad=vad or VadOptions(),
        speakers=SpeakerOptions(mode="off"),
    )
    events: list[tuple[float, object]] = []
    clock = _RevisionClock(transcriber)
    pipeline = Pipeline(
        config,
        lambda e: events.append((time.monotonic(), e)),
        transcriber=clock,  # type: ignore[arg-type]
    )
    source = _TimedSource(timeline.audio, name=timeline.name, realtime=realtime)
    cpu0, wall0 = time.process_time(), time.monotonic()
    pipeline.run(source)
    cpu = (time.process_time() - cpu0) / max(time.monotonic() - wall0, 1e-6)
    finals = [e for _, e in events if isinstance(e, Final)]
    pieces = [Piece(f.start, f.end, f.text, f.times.emitted_at or 0.0) for f in finals]
    starts = {e.segment_id: e.start for _, e in events if isinstance(e, SpeechStarted)}
    first: dict[int, float] = {}
    for at, e in events:
        if isinstance(e, Partial) and e.segment_id not in first and e.segment_id in starts:
            first[e.segment_id] = at - (source.t0 + starts[e.segment_id])
    texts = {f.segment_id: f.text for f in finals}
    revised = [e for _, e in events if isinstance(e, FinalRevised)]
    for r in revised:
        texts[r.segment_id] = r.text
    return RunResult(
        "dragoman",
        " ".join(f.text for f in finals),
        tuple(_latencies(timeline, pieces, source.t0)),
        tuple(first.values()),
        cpu,
        tuple(pieces),
        " ".join(texts[k] for k in sorted(texts)) if revisions else None,
        tuple((r.previous_text, r.text) for r in revised),
        tuple(_revision_delays(timeline, revised, source.t0)),
        tuple(_waits(finals, clock.busy)),
        clock.passes,
        sum(end - start for start, end in clock.busy),
    )


def _revision_delays(timeline: Timeline, revised: Sequence[FinalRevised], t0: float) -> list[float]:
    """Per revision pass (its revisions share one decode): from the acoustic end of the last
    utterance it covers to the first of its `FinalRevised` events."""
    passes: dict[float | None, FinalRevised] = {}
    for r in revised:
        passes.setdefault(r.times.asr_start_at, r)
    out = []
    for r in passes.values():
        if r.times.audio_end_at is None or r.times.emitted_at is None:
            continue
        heard = r.times.audio_end_at - t0  # the VAD's end of speech of the span, in the source
        ended = [u.speech_end for u in timeline.utterances if u.speech_end <= heard + 0.25]
        if ended:
            out.append(r.times.emitted_at - (t0 + max(ended)))
    return out


def _wait_until(t0: float, sample: int, realtime: bool) -> None:
    delay = t0 + sample / SAMPLE_RATE - time.monotonic()
    if realtime and delay > 0:
        time.sleep(delay)


def _paced_windows(
    audio: np.ndarray, t0: float, realtime: bool
) -> Iterator[tuple[int, np.ndarray]]:
    """(end sample, window) of 512-sample windows, each released when it has been spoken."""
    for end in range(WINDOW, len(audio) + 1, WINDOW):
        _wait_until(t0, end, realtime)
        yield end, audio[end - WINDOW : end]


def _decode(transcriber: WhisperTranscriber, audio: np.ndarray, language: str | None) -> str:
    segments, _ = transcriber.model.transcribe(audio, language=language)
    return " ".join(s.text.strip() for s in segments)


def run_naive(
    transcriber: WhisperTranscriber,
    timeline: Timeline,
    *,
    language: str | None = "en",
    realtime: bool = True,
) -> RunResult:
    """Silero VAD; after 500 ms of silence, faster-whisper transcribes the segment."""
    vad = SileroVad()
    segmenter = Segmenter(VadOptions(min_silence_ms=NAIVE_SILENCE_MS))
    audio = timeline.audio
    pieces: list[Piece] = []
    seg_start = 0
    t0 = time.monotonic()
    cpu0 = time.process_time()

    def close(end: int) -> None:
        text = _decode(transcriber, audio[seg_start:end], language)
        pieces.append(Piece(seg_start / SAMPLE_RATE, end / SAMPLE_RATE, text, time.monotonic()))

    for _, window in _paced_windows(audio, t0, realtime):
        for ev in segmenter.push(vad.probability(window)):
            if ev.kind == "start":
                seg_start = ev.position
            elif ev.kind in ("end", "split"):
                close(ev.position)
                seg_start = ev.position
    for ev in segmenter.flush():
        if ev.kind == "end":
            close(ev.position)
    cpu = (time.process_time() - cpu0) / max(time.monotonic() - t0, 1e-6)
    return RunResult(
        "naive",
        " ".join(p.text for p in pieces),
        tuple(_latencies(timeline, pieces, t0)),
        (),
        cpu,
        tuple(pieces),
    )


def run_chunks(
    transcriber: WhisperTranscriber,
    timeline: Timeline,
    *,
    language: str | None = "en",
    chunk_s: float = CHUNK_S,
    realtime: bool = True,
) -> RunResult:
    """Every `chunk_s` of audio decoded on its own as soon as it has arrived."""
    audio = timeline.audio
    step = int(chunk_s * SAMPLE_RATE)
    pieces: list[Piece] = []
    t0 = time.monotonic()
    cpu0 = time.process_time()
    for start in range(0, len(audio), step):
        end = min(start + step, len(audio))
        _wait_until(t0, end, realtime)
        text = _decode(transcriber, audio[start:end], language)
        pieces.append(Piece(start / SAMPLE_RATE, end / SAMPLE_RATE, text, time.monotonic()))
    cpu = (time.process_time() - cpu0) / max(time.monotonic() - t0, 1e-6)
    return RunResult(
        f"chunks-{chunk_s:g}s",
        " ".join(p.text for p in pieces),
        tuple(_latencies(timeline, pieces, t0)),
        (),
        cpu,
        tuple(pieces),
    )


def repeated_phrases(text: str, min_words: int = 2) -> list[str]:
    """Phrases of `min_words` or more words said twice in a row ("fail again fail again")."""
    words = normalize_text(text)
    found = []
    for n in range(min_words, len(words) // 2 + 1):
        for i in range(len(words) - 2 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n]:
                found.append(" ".join(words[i : i + n]))
    return found
