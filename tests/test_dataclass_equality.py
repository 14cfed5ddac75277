"""Objects that carry pixels or boxes (numpy arrays) compare by identity, never field by field: a
`==`, `in`, `list.remove` or `list.index` over dataclasses with array fields raises ValueError as
soon as an array has more than one element (the fall analyzer died of it on one video)."""

import dataclasses
import importlib
import pkgutil
import re

import pytest

ARRAY_TYPES = re.compile(r"\b(ndarray|Detections|Incident|Frame|Poses|deque)\b")
"""Field types that hold arrays (an Incident its frame, a Frame its image, a deque of such)."""
RUN_TIME_PACKAGES = (
    "domain",
    "analytics",
    "perception",
    "storage",
    "video",
    "notifiers",
    "runtime",
    "evaluation",
    "services",
    "api",
    "ui",
)


def _dataclasses() -> list[type]:
    found = []
    for package in RUN_TIME_PACKAGES:
        module = importlib.import_module(f"citywatch.{package}")
        for info in pkgutil.walk_packages(module.__path__, f"{module.__name__}."):
            loaded = importlib.import_module(info.name)
            found += [
                value
                for value in vars(loaded).values()
                if isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == info.name
            ]
    return found


def _holds_arrays(cls: type) -> bool:
    return any(ARRAY_TYPES.search(str(field.type)) for field in dataclasses.fields(cls))


@pytest.mark.parametrize("cls", [c for c in _dataclasses() if _holds_arrays(c)], ids=lambda c: c.__qualname__)
def test_a_dataclass_with_arrays_compares_by_identity(cls: type) -> None:
    assert cls.__eq__ is object.__eq__, f"{cls.__module__}.{cls.__qualname__}: use @dataclass(eq=False)"


def test_the_scan_finds_them() -> None:
    names = {c.__qualname__ for c in _dataclasses() if _holds_arrays(c)}
    assert {"FallSpot", "AnalysisInput", "Incident", "Frame"} <= names
