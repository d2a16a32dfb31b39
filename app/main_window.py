"""The main window: controls on top, the live transcript in the middle, health at the bottom.

This module only lays out widgets. The window tells what the user wants through intent signals
(`start_stop_requested`, `input_chosen`, `languages_changed`...) and is told what to show through
typed setters (`set_running`, `show_stats`, `show_error`, `set_devices`...); the controllers in
`app/` never reach into its widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStatusBar,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.banner import Banner, InputBanner, OfferBanner
from app.devices import FILE_CHOICE, Choice
from app.subtitle_view import SubtitleView
from engine.events import Stage, Stats
from engine.latency import UtteranceLatency
from engine.session import SessionLine
from engine.translate import languages

MODE_LABELS = (("original", "Original"), ("translation", "Translation"), ("both", "Both"))


class LevelMeter(QProgressBar):
    """Input level in dBFS mapped onto 0..100 (-60 dB .. 0 dB)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.setAccessibleName("Input level")
        self.setRange(0, 100)
        self.setTextVisible(False)
        self.setFixedSize(110, 10)
        self.db = -120.0

    def set_db(self, db: float) -> None:
        self.db = db
        self.setValue(round(min(max((db + 60.0) / 60.0, 0.0), 1.0) * 100))
        self.setToolTip(f"Input level {db:.0f} dBFS")


class ElidedLabel(QLabel):
    """A one-line label that gives up width gracefully: the text ends in "…" when the room is
    short, the full text is the tooltip, and it never forces its window wider."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        *,
        max_hint: int | None = None,
        min_hint: int = 48,
    ) -> None:
        super().__init__(parent)
        self._min_hint = min_hint  # keeps at least this much (more important figures ask more)
        self._max_hint = max_hint  # asks for no more than this (a long notice leaves room)
        self._full = ""
        self._own_tip = False
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self._full = text
        self._elide()
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt API)
        self._own_tip = bool(tip)
        super().setToolTip(tip)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        width += 4  # rounding of the advance: never elide text that has its hint
        if self._max_hint is not None:
            width = min(width, self._max_hint)
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(
            min(self.sizeHint().width(), self._min_hint), super().minimumSizeHint().height()
        )

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()  # the style sheet's padding is in the margins
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(room, 0))
        if room < 40:  # a lone "A…" says nothing; the tooltip still does
            shown = ""
        super().setText(shown)
        if not self._own_tip:
            QLabel.setToolTip(self, self._full if shown != self._full else "")


class MainWindow(QMainWindow):
    # intents: what the user asked for (the window decides nothing itself)
    closing = Signal()
    mode_changed = Signal(str)
    start_stop_requested = Signal()
    pause_requested = Signal()  # pause or resume listening (the session is kept)
    export_requested = Signal()
    new_session_requested = Signal()
    open_file_requested = Signal()
    open_session_requested = Signal()
    sessions_folder_requested = Signal()
    quit_requested = Signal()
    settings_requested = Signal()
    models_requested = Signal()
    about_requested = Signal()
    shortcuts_requested = Signal()
    rescan_requested = Signal()
    overlay_toggled = Signal(bool)
    dock_chosen = Signal(str)  # "top", "bottom" or "" (a floating overlay)
    caption_shortcut_requested = Signal()  # choose the global show/hide shortcut
    click_through_toggled = Signal(bool)
    zoom_requested = Signal(int)  # +1 larger, -1 smaller
    input_chosen = Signal(str)  # an input spec, or devices.FILE_CHOICE
    languages_changed = Signal(object, object)  # spoken (None = detect), target (None = none)
    speech_toggled = Signal(bool)
    output_chosen = Signal(object)  # output device (None = system default)
    volume_changed = Signal(float)  # 0..1, once the slider is let go
    rename_requested = Signal(object, str)  # old speaker name (None = unlabelled), new name
    error_action_requested = Signal()  # the banner's action button (what it offers varies)

    def __init__(self, colors: theme.SpeakerColors, icon: QIcon | None = None) -> None:
        super().__init__()
        # the application display name ("Dragoman") is added by Qt: "Live interpreter — Dragoman"
        self.setWindowTitle("Live interpreter")
        if icon is not None:
            self.setWindowIcon(icon)
        self.setMinimumSize(800, 460)
        self.resize(1100, 720)
        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self.banner = Banner("Error message", dismiss_name="Dismiss error message")
        self.offer_banner = OfferBanner()
        self.input_banner = InputBanner()  # the chosen input vanished (app.device_controller)
        self.subtitles = SubtitleView(colors)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(10, 8, 10, 4)
        lay.setSpacing(8)
        lay.addWidget(self.banner)
        lay.addWidget(self.offer_banner)
        lay.addWidget(self.input_banner)
        self.find_box = QLineEdit()
        self.find_box.setPlaceholderText("Find in transcript (Enter: next, Esc: close)")
        self.find_box.setAccessibleName("Find in transcript")
        self.find_box.hide()
        lay.addWidget(self.find_box)
        lay.addWidget(self.subtitles, 1)
        self.setCentralWidget(central)
        self._build_status()
        self.allow_close = True
        self._state = "idle"
        self._wire_intents()

    # ------------------------------------------------------------------ construction
    def _build_actions(self) -> None:
        self.act_start = QAction("&Start interpreting", self)
        self.act_start.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("F5")])
        self.act_start.setToolTip("Start or stop interpreting (Ctrl+R / F5)")
        self.act_pause = QAction("&Pause listening", self)
        self.act_pause.setShortcut(QKeySequence("F6"))
        self.act_pause.setToolTip(
            "Stop listening for a moment and carry on in the same session (F6)"
        )
        self.act_pause.setEnabled(False)
        self.act_export = QAction("&Export transcript…", self)
        self.act_export.setShortcut(QKeySequence("Ctrl+E"))
        self.act_new_session = QAction("&New session", self)
        self.act_new_session.setShortcut(QKeySequence("Ctrl+N"))
        self.act_open_file = QAction("Interpret an audio &file…", self)
        self.act_open_file.setShortcut(QKeySequence("Ctrl+O"))
        self.act_open_session = QAction("Open a saved &session…", self)
        self.act_open_session.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.act_sessions_folder = QAction("Show sessions &folder", self)
        self.act_quit = QAction("&Quit", self)
        self.act_quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.act_overlay = QAction("Caption &overlay", self)
        self.act_overlay.setCheckable(True)
        self.act_overlay.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.act_overlay.setIconText("Overlay")  # the toolbar button's text
        self.act_click_through = QAction("Overlay &click-through", self)
        self.act_click_through.setCheckable(True)
        self.act_click_through.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.act_click_through.setToolTip(
            "Mouse clicks pass through the overlay to the windows below (Ctrl+Shift+T)"
        )
        self.dock_actions: dict[str, QAction] = {}
        dock_group = QActionGroup(self)
        for edge, label in (
            ("", "&Floating overlay"),
            ("top", "Caption bar at the &top"),
            ("bottom", "Caption bar at the &bottom"),
        ):
            act = QAction(label, self)
            act.setCheckable(True)
            act.triggered.connect(lambda _=False, e=edge: self.dock_chosen.emit(e))
            dock_group.addAction(act)
            self.dock_actions[edge] = act
        self.dock_actions[""].setChecked(True)
        self.act_caption_shortcut = QAction("Show/hide &shortcut for captions…", self)
        self.act_caption_shortcut.triggered.connect(self.caption_shortcut_requested.emit)
        self.act_caption_page = QAction("Caption &page for streaming…", self)
        self.act_caption_page.setToolTip("Live captions on a web page for OBS, vMix or a browser")
        self.act_zoom_in = QAction("&Larger text", self)
        self.act_zoom_in.setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
        self.act_zoom_out = QAction("&Smaller text", self)
        self.act_zoom_out.setShortcut(QKeySequence("Ctrl+-"))
        self.act_settings = QAction("&Settings…", self)
        self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        self.act_models = QAction("&Models…", self)
        self.act_models.setShortcut(QKeySequence("Ctrl+M"))
        self.act_find = QAction("&Find in transcript…", self)
        self.act_find.setShortcut(QKeySequence("Ctrl+F"))
        self.act_about = QAction("&About Dragoman", self)
        self.act_shortcuts = QAction("&Keyboard shortcuts and guide", self)
        self.act_shortcuts.setShortcut(QKeySequence("F1"))
        self.act_speak = QAction("S&peak the translation", self)
        self.act_speak.setCheckable(True)
        self.act_speak.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.mode_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for i, (mode, label) in enumerate(MODE_LABELS, start=1):
            act = QAction(label, self)
            act.setCheckable(True)
            act.setShortcut(QKeySequence(f"Ctrl+{i}"))
            act.triggered.connect(lambda _=False, m=mode: self.mode_changed.emit(m))
            group.addAction(act)
            self.mode_actions[mode] = act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        for act in (
            self.act_start,
            self.act_pause,
            self.act_open_file,
            None,
            self.act_new_session,
            self.act_open_session,
            self.act_export,
            self.act_sessions_folder,
            None,
            self.act_quit,
        ):
            file.addSeparator() if act is None else file.addAction(act)
        view = bar.addMenu("&View")
        for act in self.mode_actions.values():
            view.addAction(act)
        view.addSeparator()
        view.addAction(self.act_zoom_in)
        view.addAction(self.act_zoom_out)
        view.addSeparator()
        view.addAction(self.act_overlay)
        view.addAction(self.act_click_through)
        self.dock_menu = view.addMenu("Caption &position")
        for act in self.dock_actions.values():
            self.dock_menu.addAction(act)
        view.addAction(self.act_caption_shortcut)
        view.addAction(self.act_caption_page)
        tools = bar.addMenu("&Tools")
        tools.addAction(self.act_settings)
        tools.addAction(self.act_models)
        view.addSeparator()
        view.addAction(self.act_speak)
        view.addAction(self.act_find)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_shortcuts)
        help_menu.addAction(self.act_about)

    def _build_toolbars(self) -> None:
        top = QToolBar("Interpreting", self)
        top.setObjectName("mainToolbar")
        top.setMovable(False)
        top.setIconSize(QSize(18, 18))
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startButton")
        self.start_button.setAccessibleName("Start or stop interpreting")
        self.start_button.setToolTip("Start or stop interpreting (Ctrl+R / F5)")
        self.start_button.clicked.connect(self.act_start.trigger)
        self.start_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        top.addWidget(self.start_button)
        top.addSeparator()
        self.input_combo = QComboBox()
        self.input_combo.setAccessibleName("Audio input")
        self.input_combo.setToolTip("Where to listen: a microphone, system audio or a file")
        self.input_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.input_combo.setMinimumWidth(180)
        self.input_combo.setMaximumWidth(300)
        # a long device name is cut in a narrow window: the tooltip always has all of it
        self.input_combo.currentTextChanged.connect(lambda _t: self.update_device_tooltips())
        self.refresh_inputs = QToolButton()
        self.refresh_inputs.setText("⟳")
        self.refresh_inputs.setAccessibleName("Refresh audio inputs")
        self.refresh_inputs.setToolTip("Look for audio inputs again")
        top.addWidget(_caption("Input"))
        top.addWidget(self.input_combo)
        top.addWidget(self.refresh_inputs)
        top.addSeparator()
        self.source_lang = QComboBox()
        self.source_lang.setAccessibleName("Spoken language")
        self.source_lang.addItem("Detect automatically", None)
        self.target_lang = QComboBox()
        self.target_lang.setAccessibleName("Translate into")
        self.target_lang.addItem("No translation", None)
        for lang in spoken_languages():
            self.source_lang.addItem(lang.name, lang.code)
        for lang in target_languages():
            self.target_lang.addItem(lang.name, lang.code)
        self.source_lang.setToolTip("The language people speak")
        self.target_lang.setToolTip("The language to translate into")
        top.addWidget(self.source_lang)
        top.addWidget(_caption("→"))
        top.addWidget(self.target_lang)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, top)
        self.addToolBarBreak()

        second = QToolBar("View and speech", self)
        second.setObjectName("secondToolbar")
        second.setMovable(False)
        self.mode_buttons: dict[str, QToolButton] = {}
        self.mode_group = QButtonGroup(self)
        segmented = QWidget()
        seg_lay = QHBoxLayout(segmented)
        seg_lay.setContentsMargins(0, 0, 0, 0)
        seg_lay.setSpacing(0)
        for i, (mode, label) in enumerate(MODE_LABELS):
            button = QToolButton()
            button.setObjectName("modeButton")
            button.setProperty("segment", ("left", "mid", "right")[min(i, 2)])
            button.setText(label)
            button.setCheckable(True)
            button.setAccessibleName(f"Show {label.lower()} text")
            keys = self.mode_actions[mode].shortcut().toString()
            button.setToolTip(f"Show {label.lower()} text ({keys})")
            button.clicked.connect(lambda _=False, m=mode: self.mode_changed.emit(m))
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            seg_lay.addWidget(button)
        second.addWidget(segmented)
        second.addSeparator()
        self.overlay_button = QToolButton()
        self.overlay_button.setDefaultAction(self.act_overlay)
        self.overlay_button.setObjectName("overlayButton")
        self.overlay_button.setText("Overlay")
        self.overlay_button.setToolTip("Caption overlay on top of other windows (Ctrl+Shift+C)")
        self.overlay_button.setAccessibleName("Show caption overlay")
        second.addWidget(self.overlay_button)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        second.addWidget(spacer)
        self.speak_check = QCheckBox("Speak")
        self.speak_check.setToolTip(
            "Speak the translation aloud (the original when there is no translation) (Ctrl+Shift+S)"
        )
        self.speak_check.setAccessibleName("Speak the translation aloud")
        second.addWidget(self.speak_check)
        self.output_combo = QComboBox()
        self.output_combo.setAccessibleName("Speech output device")
        self.output_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.output_combo.setMinimumWidth(130)
        self.output_combo.setMaximumWidth(220)
        self.output_combo.currentTextChanged.connect(lambda _t: self.update_device_tooltips())
        second.addWidget(self.output_combo)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setAccessibleName("Speech volume")
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(80)
        self.volume.setToolTip("Speech volume")
        second.addWidget(_caption("Volume"))
        second.addWidget(self.volume)
        self.volume_label = QLabel("100%")  # shown as the slider's tooltip
        self.volume.valueChanged.connect(self._volume_changed)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, second)

    def _build_status(self) -> None:
        status = QStatusBar(self)
        status.setSizeGripEnabled(True)
        self.state_label = QLabel("Ready")
        self.state_label.setAccessibleName("Engine state")
        self.state_label.setMinimumWidth(120)
        self.level = LevelMeter()
        self.latency_label = ElidedLabel("Latency —", min_hint=200)
        self.latency_label.setAccessibleName("Latency of the last utterance")
        self.latency_label.setToolTip("Per-stage latency of the last utterance")
        self.backlog_label = ElidedLabel("Backlog —", min_hint=110)
        self.backlog_label.setAccessibleName("Backlog")
        self.backends_label = ElidedLabel("", min_hint=0)
        self.backends_label.setAccessibleName("Where each stage runs")
        self.session_label = QLabel("")
        self.session_label.setAccessibleName("Session file")
        self.notice_label = ElidedLabel("", max_hint=320, min_hint=0)
        self.notice_label.setAccessibleName("Notice")
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(lambda: self.notice_label.setText(""))
        status.addWidget(self.state_label)
        status.addWidget(_caption("Level"))
        status.addWidget(self.level)
        status.addWidget(_separator())
        status.addWidget(self.latency_label)
        status.addWidget(_separator())
        status.addWidget(self.backlog_label)
        status.addWidget(_separator())
        status.addWidget(self.backends_label, 1)
        status.addPermanentWidget(self.notice_label)
        status.addPermanentWidget(self.session_label)
        self.setStatusBar(status)

    def _wire_intents(self) -> None:
        for action, signal in (
            (self.act_start, self.start_stop_requested),
            (self.act_pause, self.pause_requested),
            (self.act_export, self.export_requested),
            (self.act_new_session, self.new_session_requested),
            (self.act_open_file, self.open_file_requested),
            (self.act_open_session, self.open_session_requested),
            (self.act_sessions_folder, self.sessions_folder_requested),
            (self.act_quit, self.quit_requested),
            (self.act_settings, self.settings_requested),
            (self.act_models, self.models_requested),
            (self.act_about, self.about_requested),
            (self.act_shortcuts, self.shortcuts_requested),
        ):
            action.triggered.connect(signal.emit)
        self.act_overlay.toggled.connect(self.overlay_toggled.emit)
        self.act_click_through.toggled.connect(self.click_through_toggled.emit)
        self.act_zoom_in.triggered.connect(lambda: self.zoom_requested.emit(+1))
        self.act_zoom_out.triggered.connect(lambda: self.zoom_requested.emit(-1))
        self.refresh_inputs.clicked.connect(self.rescan_requested.emit)
        self.input_combo.activated.connect(
            lambda i: self.input_chosen.emit(self.input_combo.itemData(i))
        )
        self.source_lang.activated.connect(lambda _i: self._emit_languages())
        self.target_lang.activated.connect(lambda _i: self._emit_languages())
        self.speak_check.toggled.connect(self.speech_toggled.emit)
        self.speak_check.toggled.connect(lambda on: _set_checked(self.act_speak, on))
        self.act_speak.toggled.connect(self.speak_check.setChecked)
        self.output_combo.activated.connect(
            lambda i: self.output_chosen.emit(self.output_combo.itemData(i))
        )
        self.volume.sliderReleased.connect(self._emit_volume)
        self.volume.valueChanged.connect(
            lambda _v: None if self.volume.isSliderDown() else self._emit_volume()
        )
        self.subtitles.rename_requested.connect(self.rename_requested.emit)
        self.act_find.triggered.connect(self.open_find)
        self.find_box.textChanged.connect(lambda text: self._find(text, after=-1))
        self.find_box.returnPressed.connect(
            lambda: self._find(self.find_box.text(), after=self.subtitles.currentIndex().row())
        )
        self.banner.action_button.clicked.connect(self.error_action_requested.emit)

    def help_html(self) -> str:
        """The shortcut list (from the actions themselves) and a short guide."""
        rows = []
        for action in self.findChildren(QAction):
            keys = ", ".join(
                k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
            )
            name = action.text().replace("&", "")
            if action in self.mode_actions.values():
                name = f"Show {name.lower()} text"
            if keys and name:
                rows.append(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>")
        return (
            "<h3>Getting started</h3><ol>"
            "<li>Choose where to listen: a microphone, system audio (what the computer plays) "
            "or an audio file.</li>"
            "<li>Choose the spoken language (or let Dragoman detect it) and a language to "
            "translate into.</li>"
            "<li>Press <b>Start</b>. Each speaker gets a colour; click a name to rename it.</li>"
            "<li><b>Speak</b> reads the translation aloud; the <b>Overlay</b> shows captions "
            "over other windows. View → Caption position docks them as a bar at the top or "
            "bottom of the screen that other windows keep clear of; View → Show/hide shortcut "
            "sets a key that shows and hides them from any application.</li></ol>"
            "<p>After a pause, Dragoman hears the last sentences again together; a line it "
            "corrects is replaced where it stands and marked ✎. Each line shows the language "
            "it was heard in.</p>"
            "<h3>Keyboard shortcuts</h3><table cellspacing='6'>"
            + "".join(sorted(rows))
            + "</table>"
        )

    def open_find(self) -> None:
        self.find_box.show()
        self.find_box.setFocus()
        self.find_box.selectAll()

    def _find(self, text: str, *, after: int) -> None:
        found = self.subtitles.find_text(text, after=after)
        self.find_box.setStyleSheet(
            "" if found is not None or not text.strip() else "color: #ff938a;"
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape and self.find_box.isVisible():
            self.find_box.hide()
            self.find_box.clear()
            self.subtitles.setFocus()
            return
        super().keyPressEvent(event)

    def _emit_languages(self) -> None:
        self.languages_changed.emit(self.source_lang.currentData(), self.target_lang.currentData())

    def _emit_volume(self) -> None:
        self.volume_changed.emit(self.volume.value() / 100.0)

    def _volume_changed(self, value: int) -> None:
        self.volume_label.setText(f"{value}%")
        self.volume.setToolTip(f"Speech volume {value}%")
        self.volume.setAccessibleDescription(f"{value} percent")

    # ------------------------------------------------------------------ view updates
    def set_devices(
        self,
        inputs: list[Choice],
        chosen_input: str,
        outputs: list[Choice],
        chosen_output: str | None,
    ) -> None:
        """Fill the input and output pickers (the chosen entries are added when missing)."""
        combo = self.input_combo
        combo.blockSignals(True)
        combo.clear()
        for choice in inputs:
            combo.addItem(choice.label, choice.value)
        combo.addItem("Choose an audio file…", FILE_CHOICE)
        combo.blockSignals(False)
        _select(combo, chosen_input)
        out = self.output_combo
        out.blockSignals(True)
        out.clear()
        for choice in outputs:
            out.addItem(choice.label, choice.value)
        out.blockSignals(False)
        _select(out, chosen_output)
        self.update_device_tooltips()

    def set_input(self, spec: str) -> None:
        """Show `spec` as the chosen input (without emitting `input_chosen`)."""
        _select(self.input_combo, spec)

    def set_input_label(self, spec: str, label: str) -> None:
        """Rename the input picker's entry of `spec` (e.g. "… (disconnected)")."""
        index = self.input_combo.findData(spec)
        if index >= 0:
            self.input_combo.setItemText(index, label)
            self.update_device_tooltips()

    def input_label(self, spec: str) -> str | None:
        index = self.input_combo.findData(spec)
        return self.input_combo.itemText(index) if index >= 0 else None

    def set_languages(self, spoken: str | None, target: str | None) -> None:
        _select(self.source_lang, spoken)
        _select(self.target_lang, target)

    def set_speech(self, enabled: bool, volume: float) -> None:
        for widget in (self.speak_check, self.volume):
            widget.blockSignals(True)
        self.speak_check.setChecked(enabled)
        _set_checked(self.act_speak, enabled)
        self.volume.setValue(round(volume * 100))
        for widget in (self.speak_check, self.volume):
            widget.blockSignals(False)
        self._volume_changed(self.volume.value())

    def set_overlay_checked(self, on: bool) -> None:
        _set_checked(self.act_overlay, on)

    def set_dock_checked(self, edge: str, note: str = "") -> None:
        """Which caption position is in use; `note` says why a bar floats (shown as a tip)."""
        # setChecked, not _set_checked: blocked signals would keep the group from unchecking
        # the others (it emits toggled, never triggered, so nothing is chosen again)
        self.dock_actions.get(edge, self.dock_actions[""]).setChecked(True)
        for key in ("top", "bottom"):
            self.dock_actions[key].setToolTip(note or "Reserves its strip of the screen")
        self.dock_menu.setToolTipsVisible(True)

    def set_click_through_checked(self, on: bool) -> None:
        _set_checked(self.act_click_through, on)

    def set_font_px(self, px: int) -> None:
        self.subtitles.set_font_px(px)

    def set_saved_geometry(self, geometry: list[int] | None) -> None:
        if geometry and len(geometry) == 4:
            self.setGeometry(QRect(*geometry))

    def saved_geometry(self) -> list[int]:
        g = self.normalGeometry() if self.isVisible() else self.geometry()
        return [g.x(), g.y(), g.width(), g.height()]

    def set_status(self, text: str, color: str | None = None) -> None:
        """The engine state text (e.g. "Preparing models…"), in `color` when given."""
        self.state_label.setText(text)
        if color is not None:
            self.state_label.setStyleSheet(f"color: {color};")

    def set_session_info(self, text: str, tooltip: str) -> None:
        self.session_label.setText(text)
        self.session_label.setToolTip(tooltip)

    def set_placeholder(self, html_text: str) -> None:
        self.subtitles.set_placeholder(html_text)

    def show_lines(
        self, lines: list[SessionLine], colors: theme.SpeakerColors | None = None
    ) -> None:
        """Replace the transcript (colors: a new speaker palette, e.g. for another session)."""
        if colors is not None:
            self.subtitles.colors = colors
        self.subtitles.set_lines(lines)

    def upsert_line(self, line: SessionLine) -> None:
        self.subtitles.upsert(line)

    def clear_lines(self) -> None:
        self.subtitles.clear()

    def show_error(self, title: str, message: str, *, action: str | None = None) -> None:
        """The banner; `action` labels a button that emits `error_action_requested`."""
        self.banner.show_message(title, message, action)

    def show_offer(self, message: str, action: str) -> None:
        """The offer banner: `offer_banner.accepted` / `.dismissed` say what the user chose."""
        self.offer_banner.offer(message, action)

    def hide_offer(self) -> None:
        self.offer_banner.hide()

    def clear_error(self) -> None:
        self.banner.hide()
        self.banner.action_button.hide()

    def show_latency(self, latency: UtteranceLatency) -> None:
        parts = [f"{name} {value:.2f} s" for name, value in latency.parts()]
        self.latency_label.setText("Latency  " + " · ".join(parts) if parts else "Latency —")

    def show_stats(self, stats: Stats, *, translating: bool, speaking: bool) -> None:
        """Level, backlog and where each stage runs, from the engine's periodic figures."""
        if self._state == "running":
            self.level.set_db(stats.input_level_db)
        backlog = f"Backlog  audio {stats.asr_backlog_s:.1f} s"
        if translating:
            backlog += f" · text {stats.translation_backlog}"
        if speaking:
            backlog += f" · speech {stats.speech_backlog}"
        if stats.dropped_blocks:
            backlog += f" · dropped {stats.dropped_blocks}"
        self.backlog_label.setText(backlog)
        late = stats.asr_backlog_s > 3.0 or stats.dropped_blocks > 0
        self.backlog_label.setStyleSheet(f"color: {'#d29922' if late else theme.TEXT_DIM};")
        if stats.stage_backends:
            text, tip = backends_text(stats.stage_backends)
            self.backends_label.setText(text)
            self.backends_label.setToolTip(tip)

    def clear_stats(self) -> None:
        self.backlog_label.setText("Backlog —")
        self.backlog_label.setStyleSheet(f"color: {theme.TEXT_DIM};")

    def update_device_tooltips(self) -> None:
        """The full names of the chosen devices (a narrow window cuts them in the combos)."""
        self.input_combo.setToolTip(
            "Where to listen: a microphone, system audio or a file\n"
            f"Now: {self.input_combo.currentText()}"
        )
        self.output_combo.setToolTip(
            f"Where the speech plays\nNow: {self.output_combo.currentText()}"
        )

    def notify(self, text: str, msecs: int = 6000) -> None:
        """A short notice in the status bar (never covers the level meter and figures)."""
        self.notice_label.setText(text)
        self._notice_timer.start(msecs)

    def set_pause(self, *, available: bool, paused: bool) -> None:
        """The Pause action: "Resume listening" while paused; usable while listening live."""
        self.act_pause.setText("&Resume listening" if paused else "&Pause listening")
        self.act_pause.setEnabled(available or paused)

    def set_running(self, state: str) -> None:
        """state: idle | paused | loading | running | stopping."""
        self._state = state
        running = state in ("loading", "running")
        self.start_button.setText(
            {"idle": "Start", "loading": "Stop", "running": "Stop", "stopping": "Stopping…"}.get(
                state, "Start"
            )
        )
        self.start_button.setProperty("running", "true" if running else "false")
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)
        self.start_button.setEnabled(state != "stopping")
        self.act_start.setText("&Stop interpreting" if running else "&Start interpreting")
        self.act_start.setEnabled(state != "stopping")
        self.state_label.setText(
            {
                "idle": "Ready",
                "paused": "Paused — the session is kept",
                "loading": "Loading models…",
                "running": "● Listening",
                "stopping": "Finishing the last sentence…",
            }.get(state, state)
        )
        color = theme.OK if state == "running" else theme.TEXT_DIM
        self.state_label.setStyleSheet(f"color: {color};")
        if state != "running":
            self.level.set_db(-120.0)

    def set_mode(self, mode: str) -> None:
        self.mode_actions[mode].setChecked(True)
        self.mode_buttons[mode].setChecked(True)
        self.subtitles.set_mode(mode)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.closing.emit()
        if self.allow_close:
            event.accept()
        else:  # tray mode: closing the window only hides it
            event.ignore()
            self.hide()


STAGE_NAMES: dict[str, str] = {
    Stage.ASR: "ASR",
    Stage.VAD: "VAD",
    Stage.NMT: "MT",
    Stage.TTS: "Speech",
    Stage.SPEAKER: "Speakers",
    Stage.PLAYBACK: "Speech output",
}


def backends_text(backends: dict[str, str]) -> tuple[str, str]:
    """Short status text and a per-stage tooltip of where each stage runs."""
    tip = "\n".join(f"{STAGE_NAMES.get(k, k)}: {v}" for k, v in backends.items())
    remote = [k for k, v in backends.items() if v != "local"]
    if not remote:
        return "All stages on this computer", tip
    parts = [f"{STAGE_NAMES.get(k, k)} {backends[k]}" for k in remote]
    return " · ".join(parts) + " · rest local", tip


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _set_checked(action: QAction, on: bool) -> None:
    if action.isChecked() != on:
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)


def app_version() -> str:
    """The installed Dragoman version (from the package metadata)."""
    from importlib import metadata

    try:
        return metadata.version("dragoman")
    except metadata.PackageNotFoundError:
        return "(development)"


def spoken_languages() -> list[languages.Language]:
    """What the recogniser understands (the engine's table), by name."""
    return sorted(languages.supported("whisper"), key=lambda lang: lang.name)


def target_languages() -> list[languages.Language]:
    """What the offline translator writes (the engine's table), by name."""
    return sorted(languages.supported("m2m100"), key=lambda lang: lang.name)


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(f"color: {theme.TEXT_DIM}; padding: 0 2px 0 6px;")
    return label


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setStyleSheet("color: #3a3f48;")
    return line
