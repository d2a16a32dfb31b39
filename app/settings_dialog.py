"""Settings dialog: languages, devices, models, voices, thresholds and remote services.

Edits a copy of `Settings`; `result_settings()` returns the edited copy (the controller saves it
and restarts a running engine when the engine part changed).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import devices
from app.main_window import spoken_languages, target_languages
from app.settings import Settings, consistent_translation

ASR_MODELS = (
    ("Whisper base, multilingual (offline default)", "default"),
    ("Whisper tiny, English only (fastest)", "whisper-tiny.en"),
)
TRANSLATION_BACKENDS = (
    ("M2M100 on this computer", "m2m100"),
    ("NLLB on this computer", "nllb"),
    ("Whisper (into English only)", "whisper"),
    ("Translation service (HTTP)", "remote"),
)
SPIN_WIDTH = 160  # numbers need no more; a field across the whole dialog looks unfinished
ECHO_GUARDS = (
    ("Ignore the microphone while speaking", "mute-capture"),
    ("Drop what matches the played speech", "correlate"),
    ("Off", "off"),
)


def installed_models(stage: str) -> list[tuple[str, str]]:
    """(label, id) of the models of `stage` usable offline (installed or built in)."""
    try:
        from engine.models.store import ModelStore

        rows = ModelStore(offline=True).statuses()
    except Exception:  # the list is a convenience; typing an id or folder always works
        return []
    return [
        (f"{r.model_id} — {r.description}" if r.description else r.model_id, r.model_id)
        for r in rows
        if r.stage == stage and r.state in ("installed", "packaged")
    ]


def _combo(
    items: Sequence[tuple[str, object]], value: object, name: str, *, editable: bool = False
) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.setEditable(editable)
    for label, data in items:
        combo.addItem(label, data)
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
    elif editable and value is not None:
        combo.setEditText(str(value))
    return combo


def _combo_value(combo: QComboBox) -> object:
    if combo.isEditable():
        index = combo.findText(combo.currentText())
        return combo.itemData(index) if index >= 0 else (combo.currentText().strip() or None)
    return combo.currentData()


def _opt_str(value: object) -> str | None:
    return str(value) if value else None


def _spin(
    value: float,
    lo: float,
    hi: float,
    step: float,
    name: str,
    *,
    decimals: int = 2,
    suffix: str = "",
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setAccessibleName(name)
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setMaximumWidth(SPIN_WIDTH)
    return box


def _ispin(value: int, lo: int, hi: int, name: str, *, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setAccessibleName(name)
    box.setRange(lo, hi)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setMaximumWidth(SPIN_WIDTH)
    return box


def _check(text: str, value: bool) -> QCheckBox:
    box = QCheckBox(text)
    box.setAccessibleName(text)
    box.setChecked(value)
    return box


def _line(value: str | None, name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(value or "")
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    return edit


def _secret(value: str, name: str) -> QLineEdit:
    """A bearer-token field: hidden as it is typed, stored in the settings file."""
    edit = _line(value, name, "none")
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setToolTip(
        "The token the service was started with (needed when it is on another computer)"
    )
    return edit


def _form(parent: QTabWidget, title: str) -> QFormLayout:
    page = QWidget()
    form = QFormLayout(page)
    form.setContentsMargins(16, 16, 16, 16)
    form.setVerticalSpacing(10)
    form.setHorizontalSpacing(16)
    parent.addTab(page, title)
    return form


def _enable_when_remote(backend: QComboBox, *fields: QWidget) -> None:
    """Service fields are editable only while the stage uses the service."""

    def update() -> None:
        for field in fields:
            field.setEnabled(backend.currentData() == "remote")

    backend.currentIndexChanged.connect(update)
    update()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dragoman settings")
        self.setMinimumWidth(560)
        self._settings = copy.deepcopy(settings)
        cfg, ui = self._settings.engine, self._settings.ui
        tabs = QTabWidget()
        tabs.setAccessibleName("Settings sections")

        form = _form(tabs, "General")
        inputs = [(c.label, c.value) for c in devices.input_choices(ui.recent_files)]
        if ui.source not in [v for _, v in inputs]:
            inputs.append((devices.describe_input(ui.source), ui.source))
        self.input = _combo(inputs, ui.source, "Audio input")
        form.addRow("Audio input", self.input)
        self.input_lost = _combo(
            [
                ("Wait for it, listening to nothing else", "wait"),
                ("Listen to the input the system switches to", "follow"),
            ],
            cfg.audio.when_input_lost,
            "When the audio input disconnects",
        )
        form.addRow("If it disconnects", self.input_lost)
        spoken = [(x.name, x.code) for x in spoken_languages()]
        targets = [(x.name, x.code) for x in target_languages()]
        self.source_lang = _combo(
            [("Detect automatically", None), *spoken], cfg.asr.language, "Spoken language"
        )
        form.addRow("Spoken language", self.source_lang)
        self.target_lang = _combo(
            [("No translation", None), *targets], cfg.translation.target_lang, "Translate into"
        )
        form.addRow("Translate into", self.target_lang)
        self.realtime = _check("Play audio files at real-time pace", ui.realtime_files)
        form.addRow("", self.realtime)
        self.network = _check("Allow model downloads from the internet", ui.allow_network)
        form.addRow("", self.network)

        form = _form(tabs, "Recognition")
        asr_items = list(ASR_MODELS) + [
            m for m in installed_models("asr") if m[1] not in ("whisper-base", "whisper-tiny.en")
        ]
        self.asr_model = _combo(asr_items, cfg.asr.model, "Speech recognition model", editable=True)
        self.asr_model.setToolTip(
            "A model from the list, a model id, or a folder with a faster-whisper model"
        )
        form.addRow("Model", self.asr_model)
        self.threads = _ispin(cfg.asr.cpu_threads, 1, 32, "Recognition CPU threads")
        form.addRow("CPU threads", self.threads)
        self.beam = _ispin(cfg.asr.beam_size, 1, 10, "Recognition beam size")
        self.beam.setToolTip("Higher is a little more accurate and slower (1 = greedy)")
        form.addRow("Beam size", self.beam)
        self.partials = _check(
            "Show words while a sentence is still being spoken", cfg.asr.partials
        )
        form.addRow("", self.partials)
        self.revisions = _check(
            "Correct a line once the whole sentence has been heard", cfg.asr.revisions
        )
        self.revisions.setToolTip(
            "After a pause, the last sentences are heard again together and a line that comes out"
            " better is replaced (marked ✎) and translated again; it is not spoken twice"
        )
        form.addRow("", self.revisions)
        self.partial_interval = _spin(
            cfg.asr.partial_interval_s, 0.2, 5.0, 0.1, "Partial update interval", suffix=" s"
        )
        self.partial_interval.setToolTip(
            "How often the words of an unfinished sentence are updated"
        )
        form.addRow("Update every", self.partial_interval)
        self.vad_threshold = _spin(cfg.vad.threshold, 0.05, 0.95, 0.05, "Speech threshold")
        self.vad_threshold.setToolTip(
            "How sure the voice detector must be that someone speaks (lower hears quieter voices"
            " and more noise)"
        )
        form.addRow("Speech threshold", self.vad_threshold)
        self.min_silence = _ispin(
            cfg.vad.min_silence_ms, 50, 5000, "Pause that ends a sentence", suffix=" ms"
        )
        self.min_silence.setToolTip(
            "A silence this long ends the sentence and shows its final text"
        )
        form.addRow("Pause ending a sentence", self.min_silence)
        self.max_segment = _spin(
            cfg.vad.max_segment_s, 3.0, 60.0, 1.0, "Longest sentence", decimals=0, suffix=" s"
        )
        self.max_segment.setToolTip("Someone who speaks without a pause is cut after this long")
        form.addRow("Longest sentence", self.max_segment)

        form = _form(tabs, "Translation")
        self.tr_backend = _combo(
            TRANSLATION_BACKENDS, cfg.translation.backend, "Translation engine"
        )
        form.addRow("Engine", self.tr_backend)
        # Whisper translates into English only: choosing it chooses English; another target
        # leaves it for the offline translator
        self.tr_backend.activated.connect(lambda _i: self._whisper_means_english())
        self.target_lang.activated.connect(lambda _i: self._other_target_leaves_whisper())
        self.tr_model = _combo(
            [("Default model of the engine", None), *installed_models("nmt")],
            cfg.translation.model,
            "Translation model",
            editable=True,
        )
        form.addRow("Model", self.tr_model)
        self.tr_url = _line(cfg.translation.remote_url, "Translation service URL")
        form.addRow("Service URL", self.tr_url)
        self.tr_timeout = _spin(
            cfg.translation.remote_timeout_s,
            0.5,
            60,
            0.5,
            "Translation service timeout",
            decimals=1,
            suffix=" s",
        )
        form.addRow("Service timeout", self.tr_timeout)
        self.tr_token = _secret(cfg.translation.remote_token, "Translation service token")
        form.addRow("Service token", self.tr_token)
        _enable_when_remote(self.tr_backend, self.tr_url, self.tr_timeout, self.tr_token)

        form = _form(tabs, "Speech")
        self.speech_on = _check(
            "Speak the translation aloud", cfg.speech.enabled and cfg.speech.play
        )
        form.addRow("", self.speech_on)
        self.voice = _combo(
            [("Default voice of the language", None), *installed_models("tts")],
            cfg.speech.voice,
            "Voice",
            editable=True,
        )
        form.addRow("Voice", self.voice)
        self.speed = _spin(
            1.0 / max(cfg.speech.length_scale, 0.1), 0.5, 2.0, 0.05, "Speaking speed", suffix="×"
        )
        form.addRow("Speed", self.speed)
        self.per_speaker = _check(
            "A different voice for each speaker", cfg.speech.per_speaker_voices
        )
        form.addRow("", self.per_speaker)
        self.echo = _combo(ECHO_GUARDS, cfg.speech.echo_guard, "Echo guard")
        self.echo.setToolTip("Keeps the spoken translation from being heard and interpreted again")
        form.addRow("Echo guard", self.echo)
        self.max_lag = _spin(
            cfg.speech.max_lag_s, 1.0, 60.0, 1.0, "Longest speech delay", decimals=0, suffix=" s"
        )
        self.max_lag.setToolTip("Translations that would be spoken later than this are skipped")
        form.addRow("Skip speech older than", self.max_lag)
        self.tts_backend = _combo(
            (("Piper on this computer", "local"), ("Speech service (HTTP)", "remote")),
            cfg.speech.backend,
            "Speech engine",
        )
        form.addRow("Engine", self.tts_backend)
        self.tts_url = _line(cfg.speech.remote_url, "Speech service URL")
        form.addRow("Service URL", self.tts_url)
        self.tts_token = _secret(cfg.speech.remote_token, "Speech service token")
        form.addRow("Service token", self.tts_token)
        _enable_when_remote(self.tts_backend, self.tts_url, self.tts_token)

        form = _form(tabs, "Speakers")
        self.spk_mode = _combo(
            (("Tell speakers apart", "auto"), ("Off", "off")),
            cfg.speakers.mode,
            "Speaker identification",
        )
        form.addRow("Speakers", self.spk_mode)
        self.spk_backend = _combo(
            (("On this computer", "local"), ("Embedding service (HTTP)", "remote")),
            cfg.speakers.backend,
            "Speaker engine",
        )
        form.addRow("Engine", self.spk_backend)
        self.spk_match = _spin(
            cfg.speakers.match_threshold, 0.3, 0.99, 0.01, "Known speaker similarity"
        )
        self.spk_match.setToolTip(
            "How alike a voice must be to an enrolled speaker to get that name"
        )
        form.addRow("Known speaker similarity", self.spk_match)
        self.spk_new = _spin(
            cfg.speakers.new_speaker_threshold, 0.2, 0.99, 0.01, "New speaker below"
        )
        self.spk_new.setToolTip("A voice less alike than this to everyone so far is a new speaker")
        form.addRow("New speaker below", self.spk_new)
        self.spk_url = _line(cfg.speakers.remote_url, "Speaker service URL")
        form.addRow("Service URL", self.spk_url)
        self.spk_token = _secret(cfg.speakers.remote_token, "Speaker service token")
        form.addRow("Service token", self.spk_token)
        _enable_when_remote(self.spk_backend, self.spk_url, self.spk_token)
        speaker_fields = (self.spk_backend, self.spk_match, self.spk_new)

        def speakers_on() -> None:
            on = self.spk_mode.currentData() != "off"
            for field in speaker_fields:
                field.setEnabled(on)
            remote = on and self.spk_backend.currentData() == "remote"
            self.spk_url.setEnabled(remote)
            self.spk_token.setEnabled(remote)

        self.spk_mode.currentIndexChanged.connect(speakers_on)
        speakers_on()

        form = _form(tabs, "Captions")
        self.sub_font = _ispin(ui.subtitle_font_px, 11, 40, "Transcript text size", suffix=" px")
        form.addRow("Transcript text size", self.sub_font)
        self.ov_font = _ispin(ui.overlay_font_size, 10, 72, "Overlay text size", suffix=" px")
        form.addRow("Overlay text size", self.ov_font)
        self.ov_opacity = _ispin(
            round(ui.overlay_opacity * 100), 30, 100, "Overlay background opacity", suffix=" %"
        )
        form.addRow("Overlay background", self.ov_opacity)
        self.ov_through = _check("Clicks pass through the overlay", ui.overlay_click_through)
        form.addRow("", self.ov_through)
        hint = QLabel(
            "Drag the overlay to move it and its corner to resize it; right-click it for more."
        )
        hint.setWordWrap(True)
        form.addRow("", hint)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(tabs)
        lay.addWidget(buttons)

    def _whisper_means_english(self) -> None:
        if self.tr_backend.currentData() == "whisper":
            self.target_lang.setCurrentIndex(self.target_lang.findData("en"))

    def _other_target_leaves_whisper(self) -> None:
        target = self.target_lang.currentData()
        if self.tr_backend.currentData() == "whisper" and target not in (None, "en"):
            self.tr_backend.setCurrentIndex(self.tr_backend.findData("m2m100"))

    def result_settings(self) -> Settings:
        s = copy.deepcopy(self._settings)
        cfg = s.engine
        rep = dataclasses.replace
        speech_on = self.speech_on.isChecked()
        s.engine = rep(
            cfg,
            audio=rep(cfg.audio, when_input_lost=self.input_lost.currentData()),
            asr=rep(
                cfg.asr,
                language=self.source_lang.currentData(),
                model=str(_combo_value(self.asr_model) or "default"),
                cpu_threads=self.threads.value(),
                beam_size=self.beam.value(),
                partials=self.partials.isChecked(),
                revisions=self.revisions.isChecked(),
                partial_interval_s=self.partial_interval.value(),
            ),
            vad=rep(
                cfg.vad,
                threshold=self.vad_threshold.value(),
                min_silence_ms=self.min_silence.value(),
                max_segment_s=self.max_segment.value(),
            ),
            translation=rep(
                cfg.translation,
                target_lang=self.target_lang.currentData(),
                backend=self.tr_backend.currentData(),
                model=_opt_str(_combo_value(self.tr_model)),
                remote_url=self.tr_url.text().strip() or cfg.translation.remote_url,
                remote_timeout_s=self.tr_timeout.value(),
                remote_token=self.tr_token.text().strip(),
            ),
            speech=rep(
                cfg.speech,
                enabled=speech_on,
                play=speech_on,
                voice=_opt_str(_combo_value(self.voice)),
                length_scale=round(1.0 / self.speed.value(), 3),
                per_speaker_voices=self.per_speaker.isChecked(),
                echo_guard=self.echo.currentData(),
                max_lag_s=self.max_lag.value(),
                backend=self.tts_backend.currentData(),
                remote_url=self.tts_url.text().strip() or cfg.speech.remote_url,
                remote_token=self.tts_token.text().strip(),
            ),
            speakers=rep(
                cfg.speakers,
                mode=self.spk_mode.currentData(),
                backend=self.spk_backend.currentData(),
                match_threshold=self.spk_match.value(),
                new_speaker_threshold=self.spk_new.value(),
                remote_url=self.spk_url.text().strip() or cfg.speakers.remote_url,
                remote_token=self.spk_token.text().strip(),
            ),
        )
        ui = s.ui
        ui.source = str(self.input.currentData() or ui.source)
        ui.realtime_files = self.realtime.isChecked()
        ui.allow_network = self.network.isChecked()
        ui.subtitle_font_px = self.sub_font.value()
        ui.overlay_font_size = self.ov_font.value()
        ui.overlay_opacity = self.ov_opacity.value() / 100.0
        ui.overlay_click_through = self.ov_through.isChecked()
        s.engine = consistent_translation(s.engine)
        return s
