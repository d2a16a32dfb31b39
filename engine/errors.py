"""One exception hierarchy for the whole engine.

Every error a user can cause or meet (bad file, missing model, dead device, remote service down)
is a `DragomanError` with a message written for people; the CLI prints it as one line (exit
status 2 for InputError/ConfigError, 1 for the others), the GUI worker shows it in the banner.
"""


class DragomanError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputError(DragomanError):
    """An input file or stream cannot be used (missing, unreadable, empty, not audio)."""


class ConfigError(DragomanError):
    """A setting is invalid (unknown language code, bad option value)."""


class ModelError(DragomanError):
    """A model is missing, incomplete, corrupt, or fails its checksum."""


class DeviceError(DragomanError):
    """An audio device is missing, busy or disappeared mid-session."""


class RemoteServiceError(DragomanError):
    """A remote stage (HTTP service) failed, timed out or answered nonsense."""


class DownloadError(ModelError):
    """A model download failed or was cancelled."""
