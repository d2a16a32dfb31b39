"""`dragoman` command line: headless runs, devices, models, speakers and services.

The `dragoman` command itself is `dragoman.launcher`, which starts the desktop app when no command
is given and hands everything else to `main` here; the engine never imports the app.
`python -m engine.cli COMMAND ...` is the same command line without the app.

Exit status: 0 done; 2 a usage error (a bad option, language, input file or output path: one
line on stderr, nothing written); 1 a runtime failure (a model, a device, a remote service, a
write that failed: one line on stderr, everything final so far kept); 130 interrupted by Ctrl-C
and 143 by SIGTERM (either flushes the open segment first; a second one leaves at once).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from engine import __version__
from engine.config import (
    AsrOptions,
    AudioOptions,
    EngineConfig,
    SpeakerOptions,
    SpeechOptions,
    TranslationOptions,
)
from engine.errors import ConfigError, DragomanError, InputError
from engine.events import (
    Final,
    FinalRevised,
    InputLost,
    InputRestored,
    Partial,
    SegmentDiscarded,
    SpeechOutput,
    StageFailure,
    Translation,
    event_to_dict,
)
from engine.remote import TOKEN_ENV

# huggingface_hub phones home once a day unless told not to; a local app must not.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

log = logging.getLogger("dragoman")
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 128 + 15
COMPUTE_TYPES = (
    "default",
    "auto",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


def exit_status(error: DragomanError) -> int:
    """2 for what the user typed (options, input files), 1 for what failed while working."""
    return EXIT_USAGE if isinstance(error, ConfigError | InputError) else EXIT_FAILURE


def _fmt_clock(seconds: float) -> str:
    minutes, sec = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{sec:05.2f}"


class CliSink:
    """Turns engine events into terminal lines, subtitle files and a JSONL log.

    The subtitle files get each line the moment it is final; a revision (`FinalRevised`)
    rewrites them atomically with the line replaced (so do a revised line's new translation in
    the translated files). The JSONL log is an event log: a final is written the moment it is
    final (a failing or stalled translation service holds nothing back, and a killed run keeps
    every final it showed); its revisions, translations and speech follow as their own
    `final_revised`, `translation` and `speech` records with the same `segment_id`, each one
    complete line. `jsonl_finals` folds them back into one object per final.
    """

    def __init__(
        self,
        *,
        subtitles: Path | Sequence[Path] | None,
        translated_subtitles: Path | Sequence[Path] | None,
        jsonl: Path | None,
        translating: bool,
        speaking: bool = False,
        quiet: bool = False,
        show_partials: bool = False,
        transcript_json: Path | None = None,
        on_write_error: Callable[[], None] | None = None,
        cue_words: int | None = None,
    ) -> None:
        from engine.subtitles import JsonlLog, SubtitleFile

        self.subtitles = [SubtitleFile(p) for p in _paths(subtitles)]
        self.translated = [SubtitleFile(p) for p in _paths(translated_subtitles)]
        self.jsonl = JsonlLog(jsonl) if jsonl else None
        self.transcript_json = transcript_json
        self.translating = translating
        self.speaking = speaking
        self.quiet = quiet
        self.show_partials = show_partials
        self.on_write_error = on_write_error
        self.cue_words = cue_words  # word-timed cues of at most this many words
        self._transcript: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.finals = 0
        self.translations = 0
        self.errors: list[str] = []
        self.write_error: str | None = None

    def __call__(self, event: Any) -> None:
        with self._lock:
            if self.write_error is not None:
                return  # the run is stopping: one report, nothing half-written on top
            try:
                self._handle(event)
            except OSError as exc:
                path = exc.filename or "an output file"
                self.write_error = f"cannot write {path}: {exc.strerror or exc}"
                if self.on_write_error is not None:
                    self.on_write_error()

    def _handle(self, event: Any) -> None:
        from engine.subtitles import Cue, word_cues

        if isinstance(event, Partial | SegmentDiscarded):
            if self.jsonl:
                self.jsonl.write(self._record(event))
            if isinstance(event, Partial) and self.show_partials and not self.quiet:
                print(f"  … {event.text}", file=sys.stderr, flush=True)
        elif isinstance(event, Final | FinalRevised):
            revised = isinstance(event, FinalRevised)
            self.finals += 0 if revised else 1
            cues = (
                word_cues(
                    event.start,
                    event.end,
                    event.text,
                    event.words,
                    event.speaker,
                    max_words=self.cue_words,
                )
                if self.cue_words
                else [Cue(event.start, event.end, event.text, event.speaker)]
            )
            for out in self.subtitles:
                if revised:
                    out.replace(event.segment_id, cues)
                else:
                    for cue in cues:
                        out.add(cue, event.segment_id)
            if self.transcript_json is not None and not (
                revised and event.segment_id not in self._transcript
            ):
                # a revision keeps the line's translation until its new one arrives
                self._transcript[event.segment_id] = {
                    **self._transcript.get(event.segment_id, {}),
                    "id": event.segment_id,
                    "start": round(event.start, 3),
                    "end": round(event.end, 3),
                    "text": event.text,
                    "speaker": event.speaker,
                    "language": event.lang,
                }
                if event.words:
                    self._transcript[event.segment_id]["words"] = [
                        {
                            "word": w.text,
                            "start": w.start,
                            "end": w.end,
                            "probability": w.probability,
                        }
                        for w in event.words
                    ]
            if not self.quiet:
                who = f"{event.speaker}: " if event.speaker else ""
                mark = "  ✎ " if revised else ""  # ✎: a revision of the line with these times
                print(
                    f"{mark}[{_fmt_clock(event.start)} → {_fmt_clock(event.end)}] "
                    f"{who}{event.text}",
                    flush=True,
                )
            if self.jsonl:
                self.jsonl.write(self._record(event))
        elif isinstance(event, Translation):
            self.translations += 1
            cue = Cue(event.start, event.end, event.text, event.speaker)
            for out in self.translated:
                if out.has(event.segment_id):  # the translation of a revised line
                    out.replace(event.segment_id, [cue])
                else:
                    out.add(cue, event.segment_id)
            if event.segment_id in self._transcript:
                self._transcript[event.segment_id]["translation"] = event.text
            if not self.quiet:
                print(f"    ⇒ [{event.target_lang}] {event.text}", flush=True)
            if self.jsonl:
                self.jsonl.write(self._record(event))
        elif isinstance(event, SpeechOutput):
            if self.jsonl:
                self.jsonl.write(self._record(event))
        elif isinstance(event, InputLost | InputRestored):
            from engine.audio.input_watch import describe

            print(f"dragoman: {describe(event)}", file=sys.stderr, flush=True)
            if self.jsonl:
                self.jsonl.write(self._record(event))
        elif isinstance(event, StageFailure):
            self.errors.append(event.message)
            if not event.fatal:  # a fatal one ends the run: main() prints it once
                print(f"dragoman: {event.stage}: {event.message}", file=sys.stderr, flush=True)

    @staticmethod
    def _record(event: Any) -> dict[str, Any]:
        record = event_to_dict(event)
        if isinstance(event, Partial):
            record["text"] = event.text
        if isinstance(event, Partial | SegmentDiscarded | Final | FinalRevised | Translation):
            record.setdefault("speaker", None)
        return record

    def close(self) -> None:
        """Close the JSONL log and write the JSON transcript (if asked for)."""
        if self.jsonl:
            self.jsonl.close()
        if self.transcript_json is not None and self.write_error is None:
            import json

            from engine.subtitles import atomic_write_text

            segments = [self._transcript[k] for k in sorted(self._transcript)]
            languages = [seg["language"] for seg in segments if seg["language"]]
            document = {
                "text": " ".join(seg["text"] for seg in segments),
                "language": max(set(languages), key=languages.count) if languages else None,
                "segments": segments,
            }
            try:
                atomic_write_text(
                    self.transcript_json, json.dumps(document, ensure_ascii=False, indent=1)
                )
            except OSError as exc:
                self.write_error = f"cannot write {self.transcript_json}: {exc.strerror or exc}"


def _paths(value: Path | Sequence[Path] | None) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [Path(value)]
    return [Path(p) for p in value]


def jsonl_finals(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The finals of a `--jsonl` log, each with its later `final_revised`, `translation` and
    `speech` records folded in: the latest revision's `text`, `lang` (and `words`), with
    `revision` (0: never revised) and `first_text` (the text as first emitted);
    `translation`, `target_lang`, `quality_metrics` (of the latest translation; None when it was
    not translated), `speech` (None when not spoken) and the stage times of the final, its
    first translation and its speech (a revision's own times are not folded in)."""
    import json

    finals: dict[int, dict[str, Any]] = {}
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        kind, segment = record.get("type"), record.get("segment_id")
        if kind == "final":
            record.update(
                translation=None,
                target_lang=None,
                quality_metrics=None,
                speech=None,
                revision=0,
                first_text=record.get("text"),
            )
            finals[segment] = record
        elif kind == "final_revised" and segment in finals:
            final = finals[segment]
            final["text"] = record["text"]
            final["lang"] = record.get("lang", final.get("lang"))
            final["revision"] = record.get("revision", final["revision"] + 1)
            if record.get("words"):
                final["words"] = record["words"]
        elif kind == "translation" and segment in finals:
            final = finals[segment]
            first = final["translation"] is None
            final["translation"] = record["text"]
            final["target_lang"] = record["target_lang"]
            final["quality_metrics"] = record["quality_metrics"]
            if first:  # a revision's translation keeps the first one's stage times
                final["times"] = {**record["times"], **final["times"]}
        elif kind == "speech" and segment in finals:
            final = finals[segment]
            times = record["times"]
            final["speech"] = {
                "text": record["text"],
                "lang": record["lang"],
                "voice": record["voice"],
                "duration": record["duration"],
                "skipped": record["skipped"],
                "synthesis_start_at": times.get("synthesis_start_at"),
                "playback_start_at": times.get("playback_start_at"),
            }
            extra = {k: v for k, v in times.items() if k != "emitted_at"}
            final["times"] = {**extra, **final["times"]}
    return [finals[k] for k in sorted(finals)]


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
    if args.cue_words is not None and args.cue_words < 1:
        raise ConfigError(f"--cue-words must be at least 1, not {args.cue_words}")
    if args.translated_subtitles and not target:
        raise ConfigError("--translated-subtitles needs --target LANG (what to translate into)")
    asr = AsrOptions(
        model=args.model,
        language=source,
        task=task,
        device=args.device,
        compute_type=args.compute_type,
        cpu_threads=args.threads,
        beam_size=args.beam_size,
        word_timestamps=bool(args.word_timestamps or args.cue_words),
        revisions=not args.no_revisions,
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
    config = dataclasses.replace(
        EngineConfig(),
        asr=asr,
        translation=translation,
        speech=speech,
        speakers=speakers,
        audio=AudioOptions(
            when_input_lost=args.when_input_lost, wait_for_absent_input=args.wait_for_input
        ),
    )
    problems = config.problems()  # the one place settings are validated (engine.config)
    if problems:
        raise ConfigError("; ".join(f"{RUN_FLAGS.get(p.key, p.key)} {p.message}" for p in problems))
    return config


# Settings keys as the `run` options that set them (for error messages).
RUN_FLAGS = {
    "asr.beam_size": "--beam-size",
    "asr.cpu_threads": "--threads",
    "asr.device": "--device",
    "asr.task": "--task",
    "translation.target_lang": "--target",
    "speakers.mode": "--speakers",
}


def plan_run_outputs(args: argparse.Namespace, config: EngineConfig) -> list[Any]:
    """The files this run writes (engine.outputs), checked: ConfigError names the first that
    cannot be written."""
    from engine.outputs import Output, check_outputs, plan_outputs

    formats = args.output_format or []
    if "all" in formats:
        formats = ["srt", "vtt", "txt", "json"]
    outputs = plan_outputs(
        input_spec=args.input,
        subtitles=args.subtitles,
        translated_subtitles=args.translated_subtitles,
        jsonl=args.jsonl,
        speech=args.speech,
        output_dir=args.output_dir,
        output_formats=formats,
        target_lang=config.translation.target_lang,
    )
    if args.caption_file is not None:
        outputs.append(Output("--caption-file", args.caption_file, "caption"))
    input_path = Path(args.input)
    check_outputs(outputs, input_path if input_path.is_file() else None)
    return outputs


def cmd_run(args: argparse.Namespace) -> int:
    from engine.audio.platform_capture import open_input
    from engine.audio.silence import SilenceWatch, is_microphone
    from engine.audio.sources import FileSource, FrameSource
    from engine.pipeline import Pipeline

    config = build_config(args)
    outputs = plan_run_outputs(args, config)
    # Open the input before loading models: a bad file fails fast and writes nothing.
    source: FrameSource = open_input(args.input, realtime=args.realtime, options=config.audio)
    if is_microphone(args.input):  # a denied permission delivers exact zeros

        def warn(message: str) -> None:
            print(f"dragoman: warning: {message}", file=sys.stderr, flush=True)

        source = SilenceWatch(source, warn)
    pipeline = Pipeline(config, speech_output=args.speech)
    captions = None
    try:
        captions = start_captions(args)  # a busy port fails before the models load
        pipeline.load()
    except BaseException:
        if captions is not None:
            captions.close()
        source.close()
        raise
    sink = CliSink(
        subtitles=[o.path for o in outputs if o.kind == "subtitles"],
        translated_subtitles=[o.path for o in outputs if o.kind == "translated"],
        jsonl=args.jsonl,
        translating=bool(config.translation.target_lang),
        speaking=config.speech.enabled,
        quiet=args.quiet,
        show_partials=args.partials,
        transcript_json=next((o.path for o in outputs if o.kind == "json"), None),
        on_write_error=pipeline.stop,
        cue_words=args.cue_words,
    )
    pipeline.on_event = sink if captions is None else _fan_out(captions, sink)
    interrupted: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        """Ctrl-C or SIGTERM: stop listening and flush the open segment. A second one leaves
        at once: every final so far is already on disk (subtitle lines are appended and synced,
        the JSONL log is flushed per event); unwinding through a decode in progress would abort
        the process instead, so exit right here."""
        if interrupted:
            print("dragoman: stopped without flushing", file=sys.stderr, flush=True)
            os._exit(128 + interrupted[0])
        interrupted.append(signum)
        print("\ndragoman: stopping (flushing the last segment)…", file=sys.stderr, flush=True)
        pipeline.stop()

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    if not isinstance(source, FileSource) and not args.quiet:
        print(f"dragoman: listening on {source.name} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        pipeline.run(source, realtime=getattr(source, "realtime", True))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sink.close()
        if captions is not None:
            captions.close()
    if sink.write_error is not None:
        print(f"dragoman: error: {sink.write_error}", file=sys.stderr, flush=True)
        return EXIT_FAILURE
    if interrupted:
        return 128 + interrupted[0]
    if sink.translating and sink.finals and not sink.translations:
        print(
            f"dragoman: error: none of the {sink.finals} finals could be translated (see above); "
            "the original text was kept.",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_FAILURE
    return 0


def start_captions(args: argparse.Namespace) -> Any:
    """The live caption page and/or caption file of --caption-page / --caption-file (None when
    neither is asked for); ConfigError when the port cannot be used."""
    if args.caption_page is None and args.caption_file is None:
        return None
    from engine.captions import CaptionOptions, Captions

    captions = Captions(CaptionOptions(port=args.caption_page, file=args.caption_file)).start()
    if captions.url and not args.quiet:
        print(f"dragoman: live captions at {captions.url}", file=sys.stderr, flush=True)
    return captions


def _fan_out(*consumers: Callable[[Any], None]) -> Callable[[Any], None]:
    def on_event(event: Any) -> None:
        for consumer in consumers:
            consumer(event)

    return on_event


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
    from engine.audio.platform_capture import list_system_audio, load_backend

    try:
        system = list_system_audio(load_backend())
    except DragomanError as exc:
        print(exc)
    else:
        print("System audio (use `system` or `system:NAME`):")
        if not system:
            print("  (none)")
        for device in system:
            print(f"   {device.label}  [{device.id}]")
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


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default where it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and "(default" not in text
            and default not in (None, False, argparse.SUPPRESS)
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


def _add_run_parser(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="caption (and translate / speak) a file or a microphone",
        description="Caption an audio file or a live input; optionally translate it, speak the "
        "translation, and write subtitles, a JSON transcript and a JSONL event log. Output paths "
        "are checked before anything starts. Ctrl-C (or SIGTERM) stops and keeps the last "
        "sentence.",
        formatter_class=_HelpFormatter,
    )
    run.add_argument(
        "input",
        metavar="INPUT",
        help="audio file (WAV, FLAC, OGG, MP3), `mic`, `mic:NAME`, `system` (what the computer "
        "plays), `system:NAME` or `pulse:SOURCE`",
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log debugging details on stderr (also accepted before the command)",
    )
    asr = run.add_argument_group("recognition")
    asr.add_argument(
        "--source",
        metavar="LANG",
        default="auto",
        help="language spoken (a Whisper code such as en, de, zh), or auto to detect it",
    )
    asr.add_argument(
        "--task",
        choices=["transcribe", "translate"],
        default="transcribe",
        help="write what is said, or Whisper's own translation into English",
    )
    asr.add_argument(
        "--model",
        metavar="NAME|DIR",
        default="default",
        help="faster-whisper size name, catalogue id or model directory (default: the "
        "offline default, Whisper base)",
    )
    asr.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        default=AsrOptions.device,
        help="where the recogniser runs (cuda needs an NVIDIA GPU and CUDA libraries)",
    )
    asr.add_argument(
        "--compute-type",
        choices=COMPUTE_TYPES,
        default=AsrOptions.compute_type,
        metavar="TYPE",
        help=f"recogniser precision: {', '.join(COMPUTE_TYPES)}",
    )
    asr.add_argument(
        "--threads",
        type=int,
        metavar="N",
        default=AsrOptions.cpu_threads,
        help="CPU threads for the recogniser",
    )
    asr.add_argument(
        "--beam-size",
        type=int,
        metavar="N",
        default=AsrOptions.beam_size,
        help="beam of final decodes (partials are greedy)",
    )
    asr.add_argument(
        "--word-timestamps",
        action="store_true",
        help="time every word of each line (in --jsonl and the json output; one more encoder "
        "pass per line)",
    )
    asr.add_argument(
        "--no-revisions",
        action="store_true",
        help="keep every line as first decoded (by default, a pause of 0.8 s or more re-decodes "
        "the lines since the previous one together and replaces those it corrects)",
    )
    asr.add_argument(
        "--realtime",
        action="store_true",
        help="pace a file as a microphone would deliver it (partials, latency)",
    )
    asr.add_argument(
        "--when-input-lost",
        choices=["wait", "follow"],
        default="wait",
        help="when the chosen input vanishes and the sound server moves the capture elsewhere: "
        "capture nothing until it returns, or follow the move (PulseAudio inputs)",
    )
    asr.add_argument(
        "--wait-for-input",
        action="store_true",
        help="an input that is not connected at start is waited for (default: an error that "
        "lists the inputs there are)",
    )
    asr.add_argument(
        "--speakers",
        choices=["auto", "off"],
        default="auto",
        help="tell speakers apart (auto) or not (off)",
    )
    out = run.add_argument_group("output files")
    out.add_argument(
        "--subtitles", type=Path, metavar="FILE", help="write subtitles (.srt, .vtt or .txt)"
    )
    out.add_argument(
        "--cue-words",
        type=int,
        metavar="N",
        help="word-timed subtitles: cues of at most N words, each timed by its words (implies "
        "--word-timestamps)",
    )
    out.add_argument(
        "--translated-subtitles",
        type=Path,
        metavar="FILE",
        help="subtitles of the translation (.srt, .vtt or .txt)",
    )
    out.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write INPUT_NAME.FORMAT files here (all formats unless --output-format)",
    )
    out.add_argument(
        "--output-format",
        choices=["srt", "vtt", "txt", "json", "all"],
        action="append",
        metavar="FORMAT",
        help="srt, vtt, txt, json or all; repeat for several (into --output-dir, else the "
        "current folder; with --target also INPUT_NAME.LANG.FORMAT for the translation)",
    )
    out.add_argument(
        "--jsonl", type=Path, metavar="FILE", help="write one JSON object per engine event"
    )
    out.add_argument(
        "--speech", type=Path, metavar="FILE", help="write the synthesised speech (.wav)"
    )
    out.add_argument(
        "--caption-page",
        type=int,
        metavar="PORT",
        help="serve live captions at http://127.0.0.1:PORT/ for OBS, vMix or a browser "
        "(0: any free port; the address is printed)",
    )
    out.add_argument(
        "--caption-file",
        type=Path,
        metavar="FILE",
        help="keep the current caption in this text file (replaced as it changes)",
    )
    out.add_argument("--partials", action="store_true", help="print partial hypotheses")
    out.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    mt = run.add_argument_group("translation and speech")
    mt.add_argument("--target", metavar="LANG", help="translate into this language")
    mt.add_argument(
        "--translator",
        choices=["m2m100", "nllb", "ctranslate2", "whisper", "remote"],
        help="translation engine (default: m2m100; whisper for English with --task translate)",
    )
    mt.add_argument(
        "--translation-model",
        metavar="ID|DIR",
        help="translation model: catalogue id or ONNX export directory",
    )
    mt.add_argument("--play", action="store_true", help="speak through the output device")
    mt.add_argument("--voice", metavar="ID|FILE", help="Piper voice id or .onnx path")
    mt.add_argument(
        "--output-device",
        metavar="DEVICE",
        help="speech output device (name, index or pulse:SINK)",
    )
    remote = run.add_argument_group("remote stages (HTTP services)")
    remote.add_argument("--nmt-url", metavar="URL", help="use the translation service at URL")
    remote.add_argument(
        "--tts-url", metavar="URL", help="use the speech service at URL (local fallback)"
    )
    remote.add_argument(
        "--speaker-url",
        metavar="URL",
        help="use the embedding service at URL (local fallback)",
    )
    remote.add_argument(
        "--remote-token",
        metavar="TOKEN",
        default=None,
        help=f"bearer token for the services (default: ${TOKEN_ENV})",
    )
    remote.add_argument(
        "--tts-api",
        choices=["tts", "synthesize"],
        default="tts",
        help="speech service API: Piper's /tts or the seed's /synthesize",
    )
    run.set_defaults(func=cmd_run)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dragoman",
        description="Live interpreter: subtitles per speaker, translation and speech, offline.",
        epilog="Exit status: 0 done, 1 a runtime failure (model, device, network, a failed "
        "write), 2 a usage error, 130 interrupted (Ctrl-C; 143 for SIGTERM). "
        "`dragoman COMMAND --help` describes each command.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dragoman {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debugging details on stderr"
    )
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
        return exit_status(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
