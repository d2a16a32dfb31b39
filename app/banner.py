"""The non-modal message strips above the transcript (views: they lay out widgets and emit
intents; the window and the controllers fill and connect them).

One layout, `Banner`: an optional warning icon, a bold title (hidden when empty), a wrapped
message, an optional action button and Dismiss. The object name picks the look in `app.theme`
(`errorBanner`: warning colours, `offerBanner`: a suggestion).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class Banner(QFrame):
    """A message with an optional action; Dismiss hides it and emits `dismissed`."""

    dismissed = Signal()

    def __init__(
        self,
        name: str,
        *,
        object_name: str = "errorBanner",
        warning: bool = True,
        selectable: bool = True,
        dismiss_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """name: the accessible name; warning: show the warning icon; selectable: the message
        can be selected with the mouse (to copy an error); dismiss_name: Dismiss's accessible
        name."""
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(name)
        icon = QLabel("⚠", self) if warning else None
        if icon is not None:
            icon.setStyleSheet("font-size: 18px; color: #ff938a;")
        self.title = QLabel(self)
        self.title.setStyleSheet("font-weight: 600;")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        if selectable:
            self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.action_button = QPushButton(self)
        # named even while hidden and unused: screen readers list hidden controls too
        self._action_name = f"{name}: action"
        self.action_button.setAccessibleName(self._action_name)
        self.action_button.hide()
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setAccessibleName(dismiss_name)
        self.dismiss.clicked.connect(self.hide)
        self.dismiss.clicked.connect(self.dismissed.emit)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.message)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 8, 8)
        lay.setSpacing(10)
        if icon is not None:
            lay.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(text, 1)
        lay.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_message(self, title: str, message: str, action: str | None = None) -> None:
        """Shows the banner; title "": none; action: the button's text, None: no button."""
        self.title.setText(title)
        self.title.setVisible(bool(title))
        self.message.setText(message)
        self.action_button.setText(action or "")
        self.action_button.setAccessibleName(action or self._action_name)
        self.action_button.setVisible(action is not None)
        self.setAccessibleDescription(f"{title}. {message}" if title else message)
        self.show()

    def text(self) -> str:
        return f"{self.title.text()} {self.message.text()}".strip()


class OfferBanner(Banner):
    """A suggestion with an action and Dismiss (e.g. to continue the last session); either
    hides it, then `accepted` or `dismissed` says what the user chose."""

    accepted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Suggestion", object_name="offerBanner", warning=False, selectable=False, parent=parent
        )
        self.action_button.clicked.connect(self.hide)
        self.action_button.clicked.connect(self.accepted.emit)

    def offer(self, message: str, action: str) -> None:
        self.dismiss.setAccessibleName(f"Dismiss: {message}")
        self.show_message("", message, action)


class InputBanner(Banner):
    """ "Microphone X was disconnected — waiting …" with one button for the other choice
    (listen to the input the system chose meanwhile / stop listening to it) and Dismiss;
    `app.device_controller` fills it (`show_message`'s action: the choice, None: no other
    input to listen to)."""

    choice_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Input message", dismiss_name="Dismiss input message", parent=parent)
        self.choice = self.action_button
        self.choice.clicked.connect(self.choice_clicked.emit)
