"""coach.voice.wording: spoken numbers, plurals, lists and titles."""

from __future__ import annotations

import pytest

from coach.voice.wording import Units, count_of, half_up, mid_sentence, plural, seconds, spoken_list


@pytest.mark.parametrize(("value", "spoken"), [(2.5, 3), (0.5, 1), (1.5, 2), (41.5, 42), (41.44, 41),
                                               (42.46, 43),       # printed as 42.5, so said as 43
                                               (0.0, 0), (59.999, 60), (3, 3)])
def test_half_up(value: float, spoken: int) -> None:
    assert half_up(value) == spoken


def test_plurals() -> None:
    assert (plural(0, "hold", "holds"), plural(1, "hold", "holds"), plural(2, "hold", "holds")) == \
        ("0 holds", "1 hold", "2 holds")


@pytest.mark.parametrize(("value", "spoken"), [(1, "1 minute"), (1.0, "1 minute"), (5, "5 minutes"),
                                               (0.5, "0.5 minutes"), (1.5, "1.5 minutes"),
                                               (2.04, "2 minutes"), (0, "0 minutes")])
def test_counts_keep_a_fraction_and_its_plural(value: float, spoken: str) -> None:
    """Half a minute is never "1 minute" (half_up would say so) nor "0.5 minute"."""
    assert count_of(value, "minute", "minutes") == spoken


@pytest.mark.parametrize(("items", "spoken"), [((), ""), ((42,), "42"), ((42, 38), "42 and 38"),
                                               ((42, 38, 35), "42, 38 and 35"),
                                               ((42, 60, 23, 60, 60), "42, 60, 23, 60 and 60")])
def test_lists(items: tuple[int, ...], spoken: str) -> None:
    assert spoken_list(items) == spoken


def test_seconds_with_units() -> None:
    assert seconds(1) == "1 second"
    assert seconds(0.4) == "0 seconds"
    assert seconds(1.5) == "2 seconds"
    assert seconds((42.5, 38, 35)) == "43, 38 and 35 seconds"
    assert seconds((1,)) == "1 second"
    assert seconds((1, 1)) == "1 and 1 seconds"
    assert seconds((5, 6), Units("Sekunde", "Sekunden", "und")) == "5 und 6 Sekunden"


@pytest.mark.parametrize(("title", "inside"), [("Glute bridge", "glute bridge"), ("ASR check", "ASR check"),
                                               ("bridge", "bridge"), ("A", "A")])
def test_titles_inside_a_sentence(title: str, inside: str) -> None:
    assert mid_sentence(title) == inside
