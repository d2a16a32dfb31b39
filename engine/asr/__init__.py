"""Speech recognition: faster-whisper (CTranslate2) decoding, local agreement, guards."""
