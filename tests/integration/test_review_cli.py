"""Review: `dragoman run` option checks (every user error: one line on stderr, status 2)."""

from __future__ import annotations

from engine.cli import main


# Regression (fixed in c5f967f): cli.py build_config accepts --beam-size 0 (and negative
# --threads); the model load then fails inside warm_up() with a raw ValueError traceback (status
# 1) instead of one readable line and status 2
def test_beam_size_zero_is_a_usage_error(speech_dir, tmp_path, capsys):
    wav = speech_dir / "cards-001.wav"
    rc = main(["run", str(wav), "--speakers", "off", "-q", "--beam-size", "0"])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "beam" in err[0].lower()


# Regression (fixed in c5f967f): cli.py cmd_run: --translated-subtitles without --target is
# accepted and silently writes nothing (no file, no message)
def test_translated_subtitles_without_a_target_is_refused_or_written(speech_dir, tmp_path):
    out = tmp_path / "tr.srt"
    wav = speech_dir / "cards-001.wav"
    rc = main(["run", str(wav), "--speakers", "off", "-q", "--translated-subtitles", str(out)])
    assert rc == 2 or out.exists()
