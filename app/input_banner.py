"""The banner that says the chosen input vanished and offers the choice of what to do meanwhile
(a view: it lays out its widgets and emits intents; `app.device_controller` drives it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class InputBanner(QFrame):
    """ "Microphone X was disconnected — waiting …" with one button for the other choice
    (listen to the input the system chose meanwhile / stop listening to it) and Dismiss."""

    choice_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")  # the warning look of the main window's banner
        self.setAccessibleName("Input message")
        icon = QLabel("⚠", self)
        icon.setStyleSheet("font-size: 18px; color: #ff938a;")
        self.title = QLabel(self)
        self.title.setStyleSheet("font-weight: 600;")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choice = QPushButton("Listen to another input", self)
        self.choice.setAccessibleName("Listen to another input")
        self.choice.clicked.connect(self.choice_clicked.emit)
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setAccessibleName("Dismiss input message")
        self.dismiss.clicked.connect(self.hide)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.message)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 8, 8)
        lay.setSpacing(10)
        lay.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(text, 1)
        lay.addWidget(self.choice, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_message(self, title: str, message: str, choice: str | None) -> None:
        """choice: the button's text; None: no other choice (no other input to listen to)."""
        self.title.setText(title)
        self.message.setText(message)
        self.choice.setText(choice or "")
        self.choice.setAccessibleName(choice or "")
        self.choice.setVisible(choice is not None)
        self.setAccessibleDescription(f"{title}. {message}")
        self.show()

    def text(self) -> str:
        return f"{self.title.text()} {self.message.text()}".strip()
