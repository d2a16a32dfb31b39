"""`dragoman` command line: headless runs, devices, models, speakers and services.

The `dragoman` command itself is `dragoman.launcher`, which starts the desktop app when no command
is given and hands everything else to `main` here; the engine never imports the app.
`python -m engine.cli COMMAND ...` is the same command line without the app.

Every error a user can cause prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import __version__
from engine.config import (
    AsrOptions,
    EngineConfig,
    SpeakerOptions,
    SpeechOptions,
    TranslationOptions,
)
from engine.errors import ConfigError, DragomanError
from engine.events import (
    EngineError,
    Final,
    Finished,
    Partial,
    SegmentDiscarded,
    SpeechOutput,
    Translation,
    event_to_dict,
)
from engine.remote import TOKEN_ENV

# huggingface_hub phones home once a day unless told not to; a local app must not.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

log = logging.getLogger("dragoman")
EXIT_USAGE = 2


def _fmt_clock(seconds: float) -> str:
    minutes, sec = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{sec:05.2f}"


@dataclass
class _HeldFinal:
    final: Final
    translation: Translation | None = None
    speech: SpeechOutput | None = None


class CliSink:
    """Turns engine events into terminal lines, subtitle files and a JSONL log.

    The subtitle files get each line the moment it is final. In the JSONL log a final object is
    written once what belongs to it is known — its translation (with a target) and its speech
    timing (with speech) — so each final line carries `translation`, `target_lang`,
    `quality_metrics` and `speech`.
    """

    def __init__(
        self,
        *,
        subtitles: Path | None,
        translated_subtitles: Path | None,
        jsonl: Path | None,
        translating: bool,
        speaking: bool = False,
        quiet: bool = False,
        show_partials: bool = False,
    ) -> None:
        from engine.subtitles import JsonlLog, SubtitleFile

        self.subtitles = SubtitleFile(subtitles) if subtitles else None
        self.translated = SubtitleFile(translated_subtitles) if translated_subtitles else None
        self.jsonl = JsonlLog(jsonl) if jsonl else None
        self.translating = translating
        self.speaking = speaking
        self.quiet = quiet
        self.show_partials = show_partials
        self._held: dict[int, _HeldFinal] = {}
        self._lock = threading.Lock()
        self.finals = 0
        self.errors: list[str] = []

    def __call__(self, event: Any) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Any) -> None:
        from engine.subtitles import Cue

        if isinstance(event, Partial | SegmentDiscarded):
            if self.jsonl:
                self.jsonl.write(self._record(event))
            if isinstance(event, Partial) and self.show_partials and not self.quiet:
                print(f"  … {event.text}", file=sys.stderr, flush=True)
        elif isinstance(event, Final):
            self.finals += 1
            if self.subtitles:
                self.subtitles.add(Cue(event.start, event.end, event.text, event.speaker))
            if not self.quiet:
                who = f"{event.speaker}: " if event.speaker else ""
                print(
                    f"[{_fmt_clock(event.start)} → {_fmt_clock(event.end)}] {who}{event.text}",
                    flush=True,
                )
            self._held[event.segment_id] = _HeldFinal(event)
            self._write_ready(event.segment_id)
        elif isinstance(event, Translation):
            if self.translated:
                self.translated.add(Cue(event.start, event.end, event.text, event.speaker))
            if not self.quiet:
                print(f"    ⇒ [{event.target_lang}] {event.text}", flush=True)
            if event.segment_id in self._held:
                self._held[event.segment_id].translation = event
                self._write_ready(event.segment_id)
        elif isinstance(event, SpeechOutput):
            if event.segment_id in self._held:
                self._held[event.segment_id].speech = event
                self._write_ready(event.segment_id)
        elif isinstance(event, Finished):
            for segment_id in sorted(self._held):
                self._write_ready(segment_id, force=True)
        elif isinstance(event, EngineError):
            self.errors.append(event.message)
            if not event.fatal:  # a fatal one ends the run: main() prints it once
                print(f"dragoman: {event.stage}: {event.message}", file=sys.stderr, flush=True)

    def _write_ready(self, segment_id: int, *, force: bool = False) -> None:
        """Write a held final once it is complete. Translation and speech handle segments in
        order, so a later complete segment means every earlier one is as complete as it will
        get (e.g. its translation failed): those are written first, keeping the log in order."""
        held = self._held[segment_id]
        waiting = (self.translating and held.translation is None) or (
            self.speaking and held.speech is None
        )
        if waiting and not force:
            return
        for earlier in sorted(k for k in self._held if k <= segment_id):
            done = self._held.pop(earlier)
            if self.jsonl:
                self.jsonl.write(self._record(done.final, done.translation, done.speech))

    @staticmethod
    def _record(
        event: Any, translation: Translation | None = None, speech: SpeechOutput | None = None
    ) -> dict[str, Any]:
        record = event_to_dict(event)
        if isinstance(event, Partial):
            record["text"] = event.text
        record.setdefault("speaker", None)
        if isinstance(event, Final):
            record["translation"] = translation.text if translation else None
            record["target_lang"] = translation.target_lang if translation else None
            record["quality_metrics"] = translation.quality_metrics if translation else None
            times = dict(record["times"])
            if translation is not None:
                times.update(translation.times.as_dict())
            record["speech"] = None
            if speech is not None:
                times.update({k: v for k, v in speech.times.as_dict().items() if k != "emitted_at"})
                record["speech"] = {
                    "text": speech.text,
                    "lang": speech.lang,
                    "voice": speech.voice,
                    "duration": speech.duration,
                    "skipped": speech.skipped,
                    "synthesis_start_at": speech.times.synthesis_start_at,
                    "playback_start_at": speech.times.playback_start_at,
                }
            times["emitted_at"] = event.times.emitted_at
            record["times"] = times
        return record

    def close(self) -> None:
        if self.jsonl:
            self.jsonl.close()


def build_config(args: argparse.Namespace) -> EngineConfig:
    """EngineConfig from `run` options (validates languages and combinations)."""
    from engine.asr.whisper import check_language

    source = check_language(args.source)
    task = args.task
    translator = args.translator
    target = args.target.strip().lower() if args.target else None
    if target and translator is None:
        translator = "whisper" if target == "en" and task == "translate" else "m2m100"
    if translator == "whisper":
        if target not in (None, "en"):
            raise ConfigError(f"--translator whisper only translates into English, not {target!r}")
        target = "en"
        task = "translate"
    if target and translator in ("m2m100", "nllb"):
        from engine.translate.languages import check_pair, to_backend

        if source:
            check_pair(source, target, translator)
        else:  # auto: each utterance's language is checked when it is translated
            to_backend(target, translator)
    if args.beam_size < 1:
        raise ConfigError(f"--beam-size must be at least 1 (got {args.beam_size})")
    if args.threads < 1:
        raise ConfigError(f"--threads must be at least 1 (got {args.threads})")
    if args.translated_subtitles and not target:
        raise ConfigError("--translated-subtitles needs --target LANG (what to translate into)")
    asr = AsrOptions(
        model=args.model,
        language=source,
        task=task,
        cpu_threads=args.threads,
        beam_size=args.beam_size,
    )
    translation = TranslationOptions(
        target_lang=target, backend=translator or "m2m100", model=args.translation_model
    )
    if args.nmt_url:
        translation = dataclasses.replace(translation, remote_url=args.nmt_url)
        if translation.backend != "whisper":
            translation = dataclasses.replace(translation, backend="remote")
    speech = SpeechOptions(
        enabled=bool(args.speech or args.play),
        play=args.play,
        voice=args.voice,
        output_device=args.output_device,
    )
    if args.tts_url:
        speech = dataclasses.replace(speech, backend="remote", remote_url=args.tts_url)
    speakers = SpeakerOptions(mode=args.speakers)
    if args.speaker_url:
        speakers = dataclasses.replace(speakers, backend="remote", remote_url=args.speaker_url)
    speech = dataclasses.replace(speech, remote_api=args.tts_api)
    token = args.remote_token if args.remote_token is not None else os.environ.get(TOKEN_ENV, "")
    if token.strip():
        translation = dataclasses.replace(translation, remote_token=token.strip())
        speech = dataclasses.replace(speech, remote_token=token.strip())
        speakers = dataclasses.replace(speakers, remote_token=token.strip())
    return dataclasses.replace(
        EngineConfig(), asr=asr, translation=translation, speech=speech, speakers=speakers
    )


def cmd_run(args: argparse.Namespace) -> int:
    from engine.audio.sources import FileSource, open_source
    from engine.pipeline import Pipeline

    config = build_config(args)
    for out in (args.subtitles, args.translated_subtitles):
        if out is not None:
            from engine.subtitles import subtitle_format

            subtitle_format(out)
    # Open the input before loading models: a bad file fails fast and writes nothing.
    source = open_source(args.input, realtime=args.realtime, options=config.audio)
    pipeline = Pipeline(config, speech_output=args.speech)
    try:
        pipeline.load()
    except BaseException:
        source.close()
        raise
    sink = CliSink(
        subtitles=args.subtitles,
        translated_subtitles=args.translated_subtitles,
        jsonl=args.jsonl,
        translating=bool(config.translation.target_lang),
        speaking=config.speech.enabled,
        quiet=args.quiet,
        show_partials=args.partials,
    )
    pipeline.on_event = sink

    def on_sigint(signum: int, frame: Any) -> None:
        print("\ndragoman: stopping (flushing the last segment)…", file=sys.stderr, flush=True)
        pipeline.stop()
        signal.signal(signal.SIGINT, on_second_sigint)

    def on_second_sigint(signum: int, frame: Any) -> None:
        """Impatient: leave now. Every final so far is already on disk (subtitle files are
        rewritten atomically per line, the JSONL log is flushed per event); unwinding through
        a decode in progress would abort the process instead, so exit right here."""
        print("dragoman: stopped without flushing", file=sys.stderr, flush=True)
        os._exit(130)

    previous = signal.signal(signal.SIGINT, on_sigint)
    if not isinstance(source, FileSource) and not args.quiet:
        print(f"dragoman: listening on {source.name} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        pipeline.run(source, realtime=getattr(source, "realtime", True))
    finally:
        signal.signal(signal.SIGINT, previous)
        sink.close()
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from engine.audio.devices import list_input_devices, list_output_devices

    for title, devices in (("Input", list_input_devices()), ("Output", list_output_devices())):
        print(f"{title} devices:")
        if not devices:
            print("  (none)")
        for d in devices:
            mark = "*" if d.is_default else " "
            print(
                f" {mark} [{d.index}] {d.name}  ({d.channels} ch, "
                f"{int(d.default_samplerate)} Hz, {d.hostapi})"
            )
    try:
        from engine.audio.pulse import list_sources
    except ImportError:
        return 0
    sources = list_sources()
    if sources:
        print("PulseAudio/PipeWire sources (use `pulse:NAME`):")
        for s in sources:
            print(f"   {getattr(s, 'name', s)}  {getattr(s, 'description', '')}")
    return 0


def _add_run_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="caption (and translate / speak) a file or a microphone")
    run.add_argument("input", help="audio file, `mic`, `mic:NAME` or `pulse:SOURCE`")
    run.add_argument("--source", default="auto", help="source language (Whisper code) or auto")
    run.add_argument("--task", choices=["transcribe", "translate"], default="transcribe")
    run.add_argument(
        "--realtime",
        action="store_true",
        help="pace a file as a microphone would deliver it (partials, latency)",
    )
    run.add_argument(
        "--model",
        default="default",
        help="faster-whisper size name, catalogue id or model directory",
    )
    run.add_argument("--threads", type=int, default=2, help="CPU threads for the recogniser")
    run.add_argument(
        "--beam-size",
        type=int,
        default=AsrOptions.beam_size,
        help="beam of final decodes (partials are greedy)",
    )
    run.add_argument("--subtitles", type=Path, help="write subtitles (.srt or .vtt)")
    run.add_argument("--jsonl", type=Path, help="write one JSON object per event")
    run.add_argument("--target", help="translate into this language")
    run.add_argument("--translator", choices=["m2m100", "nllb", "ctranslate2", "whisper", "remote"])
    run.add_argument(
        "--translation-model", help="translation model: catalogue id or ONNX export directory"
    )
    run.add_argument("--translated-subtitles", type=Path, help="subtitles of the translation")
    run.add_argument("--speech", type=Path, help="write the synthesised speech as WAV")
    run.add_argument("--play", action="store_true", help="speak through the output device")
    run.add_argument("--voice", help="Piper voice id or .onnx path")
    run.add_argument("--output-device", help="speech output device (name, index or pulse:SINK)")
    run.add_argument("--speakers", choices=["auto", "off"], default="auto")
    run.add_argument("--nmt-url", help="use the translation service at this URL")
    run.add_argument("--tts-url", help="use the speech service at this URL (local fallback)")
    run.add_argument("--speaker-url", help="use the embedding service at this URL (local fallback)")
    run.add_argument(
        "--remote-token",
        default=None,
        help=f"bearer token for the services (default ${TOKEN_ENV})",
    )
    run.add_argument(
        "--tts-api",
        choices=["tts", "synthesize"],
        default="tts",
        help="speech service API: Piper's /tts (default) or the seed's /synthesize",
    )
    run.add_argument("--partials", action="store_true", help="print partial hypotheses")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(func=cmd_run)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dragoman",
        description="Live interpreter: subtitles per speaker, translation and speech, offline.",
    )
    parser.add_argument("--version", action="version", version=f"dragoman {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_run_parser(sub)
    devices = sub.add_parser("devices", help="list audio input and output devices")
    devices.set_defaults(func=cmd_devices)
    for module in ("engine.models.cli", "engine.speakers.cli", "engine.services.cli"):
        try:
            register = __import__(module, fromlist=["register"]).register
        except ImportError as exc:
            log.debug("%s unavailable: %s", module, exc)
            continue
        register(sub)
    return parser


def command_names() -> list[str]:
    """The commands `main` knows (`run`, `devices`, ...), in the order of `--help`."""
    for action in make_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except DragomanError as exc:
        print(f"dragoman: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
