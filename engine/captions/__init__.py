"""Live captions for streaming and video calls: a local caption page and a caption file."""

from engine.captions.board import SHOW_CHOICES, CaptionBoard, CaptionLine, Show, caption_text
from engine.captions.server import CaptionOptions, Captions

__all__ = [
    "SHOW_CHOICES",
    "CaptionBoard",
    "CaptionLine",
    "CaptionOptions",
    "Captions",
    "Show",
    "caption_text",
]
