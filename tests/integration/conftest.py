"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest

from tests.audio_env import pulse_available, pulse_server


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    """A private PulseAudio server with a null sink (a real playback and capture device)."""
    if not pulse_available():  # installed by installers/setup.sh: missing means a broken setup
        pytest.fail("needs pulseaudio, pactl, pacat, parecord and libportaudio2 (see .ci/run)")
    with pulse_server(tmp_path_factory.mktemp("pulse")) as server:
        yield server
