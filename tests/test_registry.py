"""The one plugin registry (detector roles, second-stage models, analyzers)."""

import pytest

from citywatch.analytics.base import ANALYZERS
from citywatch.analytics.catalog import available_types
from citywatch.perception.detectors import DETECTORS
from citywatch.perception.second_stage import SECOND_STAGES
from citywatch.registry import Registry


def test_an_entry_is_registered_once_and_found_by_name() -> None:
    colours: Registry[str, int] = Registry("colour")
    assert colours.known() == [] and "red" not in colours
    colours.register("red", 1)
    colours.register("blue", 2)
    assert colours.get("red") == 1 and "red" in colours and colours.known() == ["blue", "red"]
    with pytest.raises(ValueError, match="colour 'red' is already registered"):
        colours.register("red", 3)
    assert colours.get("red") == 1


def test_an_unknown_name_is_an_error_that_lists_the_known_ones() -> None:
    colours: Registry[str, int] = Registry("colour")
    with pytest.raises(ValueError, match=r"unknown colour 'red' \(known: none\)"):
        colours.get("red")
    colours.register("blue", 2)
    colours.register("green", 3)
    with pytest.raises(ValueError, match=r"unknown colour 'red' \(known: blue, green\)"):
        colours.get("red")


def test_the_three_kinds_of_plugin_share_it() -> None:
    assert DETECTORS.known() == ["coco", "fall_detector", "fire_smoke", "rider_heads", "weapon"]
    assert SECOND_STAGES.known() == ["fall", "fight_clip", "pose"]
    assert ANALYZERS.known() == available_types()
    known = r"\(known: fall, fight_clip, pose\)"
    with pytest.raises(ValueError, match=rf"unknown second-stage model 'depth' {known}"):
        SECOND_STAGES.get("depth")
