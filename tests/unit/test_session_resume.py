"""Session files for resuming: speaker colours and the "left" flag survive a reload; the last
session is the newest file with lines that the user did not leave."""

import json
import os

from engine.events import Final, StageTimes
from engine.session import Session, last_session


def _final(sid: int, speaker: str) -> Final:
    return Final(sid, 2.0 * sid, 2.0 * sid + 1, f"Line {sid}.", "en", StageTimes(), speaker)


def test_colours_and_closed_flag_round_trip(tmp_path):
    s = Session(tmp_path / "session-a.json")
    s.apply(_final(0, "S1"))
    s.speaker_colors.update({"S1": 2, "Alice": 0})
    s.mark_closed()
    again = Session.load(s.path)
    assert again.speaker_colors == {"S1": 2, "Alice": 0} and again.closed


def test_a_session_saved_before_colours_gets_them_in_order_of_appearance(tmp_path):
    path = tmp_path / "session-old.json"
    s = Session(path)
    for sid, speaker in enumerate(["S2", "S1", "S2", "S3"]):
        s.apply(_final(sid, speaker))
    data = s.to_dict()
    del data["speaker_colors"], data["closed"]
    path.write_text(json.dumps(data))
    assert Session.load(path).speaker_colors == {"S2": 0, "S1": 1, "S3": 2}


def test_last_session_is_the_newest_with_lines_not_left(tmp_path):
    assert last_session(tmp_path) is None
    older, newer = Session(tmp_path / "session-1.json"), Session(tmp_path / "session-2.json")
    older.apply(_final(0, "S1"))
    newer.apply(_final(0, "S1"))
    newer.apply(_final(1, "S2"))
    os.utime(older.path, (1, 1))
    found = last_session(tmp_path)
    assert found is not None and found.path == newer.path and found.lines == 2
    assert last_session(tmp_path, exclude=newer.path).path == older.path
    newer.mark_closed()
    assert last_session(tmp_path) is None  # the newest was left: nothing is offered
    (tmp_path / "session-3.json").write_text("{not json")
    assert last_session(tmp_path) is None
