"""Who is speaking: Resemblyzer embeddings (torch-free), enrolled profiles, online clustering.

Heavy parts (ONNX Runtime, the model) load lazily: importing this package is cheap.
"""

from engine.speakers.base import SpeakerEmbedder, SpeakerIdentifier, SpeakerMatch

__all__ = [
    "SpeakerEmbedder",
    "SpeakerIdentifier",
    "SpeakerMatch",
    "create_identifier",
]


def create_identifier(options, profiles=None):  # type: ignore[no-untyped-def]
    """See `engine.speakers.identifier.create_identifier` (imported lazily)."""
    from engine.speakers.identifier import create_identifier as _create

    return _create(options, profiles)
