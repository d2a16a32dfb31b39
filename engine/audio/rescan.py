"""Make PortAudio look for audio devices again.

PortAudio lists devices once, when it is initialised (sounddevice does that on import), so a
microphone plugged in later stays invisible until it is re-initialised. sounddevice has no
public call for that; its `_terminate()`/`_initialize()` pair is the documented way its own
tests and issue threads use. This module is the one place that touches them.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def rescan_devices() -> bool:
    """Re-initialise PortAudio so that `query_devices()` sees plugged and unplugged devices.

    Only call this while no audio stream of this process is open (re-initialising closes
    them). Returns False when sounddevice is not loaded yet (its first import scans anyway) or
    the rescan failed (the old list stays)."""
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return False
    try:
        sd._terminate()
        sd._initialize()
    except Exception:  # private helpers: an incompatible sounddevice keeps the old list
        log.warning("PortAudio device rescan failed", exc_info=True)
        return False
    return True
