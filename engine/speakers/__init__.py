"""Who is speaking: Resemblyzer embeddings (torch-free), enrolled profiles, online clustering.

Heavy parts (ONNX Runtime, the model) load lazily: importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.speakers.base import SpeakerEmbedder, SpeakerIdentifier, SpeakerMatch

if TYPE_CHECKING:
    from engine.config import SpeakerOptions
    from engine.speakers.profiles import SpeakerProfiles

__all__ = [
    "SpeakerEmbedder",
    "SpeakerIdentifier",
    "SpeakerMatch",
    "create_identifier",
]


def create_identifier(
    options: SpeakerOptions, profiles: SpeakerProfiles | None = None
) -> SpeakerIdentifier | None:
    """See `engine.speakers.identifier.create_identifier` (imported lazily)."""
    from engine.speakers.identifier import create_identifier as _create

    return _create(options, profiles)
