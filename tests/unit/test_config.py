"""The config validates itself: wrong types and values are named by key, and a hand-edited
settings file with a mistake keeps every other setting."""

from __future__ import annotations

import tomllib

import pytest

from engine.config import AsrOptions, EngineConfig, TranslationOptions, parse_config
from engine.errors import ConfigError

HAND_EDITED = """
[engine.asr]
beam_size = "five"        # wrong type
task = "transcribe"
cpu_threads = 4           # valid: kept
language = "de"           # valid: kept

[engine.vad]
threshold = 1.7           # out of range
min_silence_ms = 300      # valid: kept

[engine.speech]
echo_guard = "loud"       # not one of the choices
volume = 1                # an int for a float: fine

[engine.translation]
target_lang = "es"
backend = "nllb"

[engine.future_section]
whatever = 1              # a newer file: ignored
"""


def test_a_hand_edited_settings_file_keeps_every_valid_setting_and_names_the_bad_ones():
    data = tomllib.loads(HAND_EDITED)["engine"]
    parsed = parse_config(data)
    problems = {p.key: p.message for p in parsed.problems}
    assert set(problems) == {"asr.beam_size", "vad.threshold", "speech.echo_guard"}
    assert "'five' is not a whole number" in problems["asr.beam_size"]
    assert "between 0.0 and 1.0" in problems["vad.threshold"]
    assert "'mute-capture', 'correlate', 'off'" in problems["speech.echo_guard"]
    cfg = parsed.config
    defaults = EngineConfig()
    assert cfg.asr.beam_size == defaults.asr.beam_size  # the bad ones fall back to defaults
    assert cfg.vad.threshold == defaults.vad.threshold
    assert cfg.speech.echo_guard == defaults.speech.echo_guard
    assert (cfg.asr.cpu_threads, cfg.asr.language, cfg.vad.min_silence_ms) == (4, "de", 300)
    assert cfg.speech.volume == 1.0 and isinstance(cfg.speech.volume, float)
    assert (cfg.translation.target_lang, cfg.translation.backend) == ("es", "nllb")
    assert EngineConfig.from_dict(data) == cfg


def test_a_section_that_is_not_a_table_is_reported():
    parsed = parse_config({"asr": "base"})
    assert [str(p) for p in parsed.problems] == ["asr: must be a table of settings"]
    assert parsed.config == EngineConfig()


def test_whisper_translation_needs_english_and_the_translate_task():
    config = EngineConfig(
        asr=AsrOptions(task="transcribe"),
        translation=TranslationOptions(target_lang="de", backend="whisper"),
    )
    keys = [p.key for p in config.problems()]
    assert keys == ["translation.target_lang", "asr.task"]
    with pytest.raises(ConfigError, match="Whisper can only translate into English"):
        config.validate()


def test_validate_names_every_bad_value_of_a_config_built_in_code():
    config = EngineConfig(asr=AsrOptions(beam_size=0, cpu_threads=0))
    with pytest.raises(ConfigError) as err:
        config.validate()
    assert "asr.cpu_threads: must be at least 1, not 0" in str(err.value)
    assert "asr.beam_size: must be at least 1, not 0" in str(err.value)
    assert EngineConfig().validate() == EngineConfig()
