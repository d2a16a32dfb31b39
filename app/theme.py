"""One calm dark theme (Fusion + palette + a short style sheet) and the speaker colours."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QStyleOptionButton,
    QWidget,
)

from engine.captions.board import SPEAKER_COLORS as CAPTION_SPEAKER_COLORS

BACKGROUND = "#1b1e24"
SURFACE = "#22262e"
SUBTITLE_BG = "#15171c"
TEXT = "#e8eaed"
TEXT_DIM = "#80868f"
TRANSLATION = "#9ec5ff"
ACCENT = "#3d8bfd"
FOCUS = "#f0b429"  # keyboard focus: amber, distinct from the blue of checked buttons
DANGER = "#e5534b"
WARNING_BG = "#4a2326"
WARNING_BORDER = "#a8433f"
OK = "#3fb950"

# One speaker palette for the window, the overlay and the caption page (defined in the engine,
# which serves the page).
SPEAKER_COLORS = CAPTION_SPEAKER_COLORS

STYLE_SHEET = f"""
QToolBar {{ background: {SURFACE}; border: none; spacing: 6px; padding: 6px 8px; }}
QToolBar QLabel {{ color: {TEXT_DIM}; padding-left: 6px; }}
QStatusBar {{ background: {SURFACE}; color: {TEXT_DIM}; }}
QStatusBar QLabel {{ color: {TEXT_DIM}; padding: 0 6px; }}
QStatusBar::item {{ border: none; }}
QPushButton#startButton {{
    background: {OK}; color: white; font-weight: 600; border: none; border-radius: 6px;
    padding: 6px 18px; min-width: 84px;
}}
QPushButton#startButton:hover {{ background: #46c35a; }}
QPushButton#startButton[running="true"] {{ background: {DANGER}; }}
QPushButton#startButton[running="true"]:hover {{ background: #f0645c; }}
QPushButton#startButton:disabled {{ background: #4a4f57; color: #aab0b8; }}
QToolButton#modeButton {{
    border: 1px solid #3a3f48; padding: 4px 10px; color: {TEXT_DIM}; background: transparent;
}}
QToolButton#modeButton[segment="left"] {{
    border-top-left-radius: 6px; border-bottom-left-radius: 6px; border-right: none;
}}
QToolButton#modeButton[segment="mid"] {{ border-right: none; }}
QToolButton#modeButton[segment="right"] {{
    border-top-right-radius: 6px; border-bottom-right-radius: 6px;
}}
QToolButton#modeButton:checked {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QToolButton#overlayButton {{
    border: 1px solid #3a3f48; border-radius: 6px; padding: 4px 12px; color: {TEXT};
}}
QToolButton#overlayButton:checked {{ background: #2d4a7a; border-color: {ACCENT}; }}
QToolButton#modeButton:focus, QToolButton#overlayButton:focus {{
    border: 2px solid {FOCUS};
}}
QSlider:focus {{ border: 2px solid {FOCUS}; border-radius: 4px; }}
QDialogButtonBox {{ dialogbuttonbox-buttons-have-icons: 0; }}
QDialogButtonBox QPushButton {{ min-width: 84px; padding: 4px 12px; }}
QFrame#errorBanner {{
    background: {WARNING_BG}; border: 1px solid {WARNING_BORDER}; border-radius: 6px;
}}
QFrame#errorBanner QLabel {{ color: #ffdcd8; }}
QFrame#offerBanner {{
    background: #1d2b3f; border: 1px solid {ACCENT}; border-radius: 6px;
}}
QFrame#offerBanner QLabel {{ color: {TEXT}; }}
QListView#subtitleView {{ background: {SUBTITLE_BG}; border: none; border-radius: 6px; }}
QProgressBar#levelMeter {{
    background: #111317; border: 1px solid #343942; border-radius: 3px;
}}
QProgressBar#levelMeter::chunk {{
    background: qlineargradient(x1:0, y1:0, x2:1, y2:0, stop:0 #2ea043, stop:0.75 #d29922,
                                stop:1 #e5534b);
    border-radius: 2px;
}}
"""


class _Style(QProxyStyle):
    """Fusion with check boxes and radio buttons you can see on a dark background (Fusion
    outlines them in a darker shade of the window colour: invisible here)."""

    _INDICATORS = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorRadioButton,
    )

    def drawPrimitive(  # noqa: N802 (Qt API)
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element in self._INDICATORS and isinstance(option, QStyleOptionButton):
            option = QStyleOptionButton(option)
            palette = QPalette(option.palette)
            palette.setColor(QPalette.ColorRole.Window, QColor("#a9b0ba"))  # the outline
            palette.setColor(QPalette.ColorRole.Base, QColor("#2b3038"))
            option.palette = palette
        super().drawPrimitive(element, option, painter, widget)


def apply_theme(app: QApplication) -> None:
    base = QStyleFactory.create("Fusion")
    if base is not None:
        style = _Style(base)
        style.setParent(app)  # kept alive as long as the application
        app.setStyle(style)
    else:
        app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: "#14161a",
        QPalette.ColorRole.AlternateBase: SURFACE,
        QPalette.ColorRole.ToolTipBase: SURFACE,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#2b3038",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: TRANSLATION,
        QPalette.ColorRole.PlaceholderText: TEXT_DIM,
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7079"))
    app.setPalette(pal)
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


class SpeakerColors:
    """Stable colour per speaker name, in order of first appearance; follows renames.

    The mapping (name -> palette index) can be a session's own `speaker_colors`, handed over
    with `use()`: the session saves it, so a reopened session shows the colours it had.
    """

    def __init__(self, assigned: dict[str, int] | None = None) -> None:
        self._index: dict[str, int] = assigned if assigned is not None else {}

    def use(self, assigned: dict[str, int]) -> None:
        """Colour from (and record into) this mapping from now on (another session's)."""
        self._index = assigned

    def color(self, name: str | None) -> str:
        key = name or ""
        if key not in self._index:
            taken = set(self._index.values())
            self._index[key] = next(i for i in range(len(taken) + 1) if i not in taken)
        return SPEAKER_COLORS[self._index[key] % len(SPEAKER_COLORS)]

    def rename(self, old: str | None, new: str) -> None:
        key = old or ""
        if key in self._index and new not in self._index:
            self._index[new] = self._index.pop(key)
