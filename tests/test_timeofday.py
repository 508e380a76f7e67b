"""One rule for reminder times, wherever they are written: the config file, `coach serve --reminder`."""

from __future__ import annotations

from datetime import time

import pytest

from coach.config import load_config, resolve
from coach.errors import ConfigError, UsageError
from coach.runner.reminders import parse_times
from coach.timeofday import parse_time


@pytest.mark.parametrize("text", ["7:5", "07:5", "8:0"])
def test_one_digit_minutes_are_refused_everywhere(tmp_path, text):
    assert parse_time(text) is None
    with pytest.raises(ValueError, match="is not a time like 08:00"):
        parse_times([text])                                 # coach serve --reminder
    config = tmp_path / "config.yaml"
    config.write_text(f'reminders: ["{text}"]\n')
    with pytest.raises(ConfigError):
        load_config(config, {})                             # the config file
    with pytest.raises(UsageError):
        resolve(load_config(None, {"XDG_CONFIG_HOME": str(tmp_path / "none")}), {"reminders": [text]})


def test_the_same_times_are_accepted_everywhere(tmp_path):
    assert parse_times(["7:05", "18:30", "07:05"]) == (time(7, 5), time(18, 30))
    config = tmp_path / "config.yaml"
    config.write_text('reminders: ["7:05", "18:30"]\n')
    assert load_config(config, {}).reminders.value == ("07:05", "18:30")
