"""Audio in and out: file decoding, frame sources (file, microphone), devices, playback."""

SAMPLE_RATE = 16_000
