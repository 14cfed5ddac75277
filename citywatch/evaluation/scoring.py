"""Item-level scoring: per incident type, did the pipeline find it in the items that show it?

An item labelled with a type is a true positive for that type when the type was found, else a
false negative. Every other item (labelled normal/helmet/no_fight, or with another type) is a
false positive for each type found in it, else a true negative for that type.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from citywatch.domain.incident_types import IncidentType


@dataclass(frozen=True, slots=True)
class TypeScore:
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    """None where it is 0/0 (nothing found at all)."""
    recall: float | None
    """None where it is 0/0 (no item shows the type)."""
    f1: float | None

    def to_json(self) -> dict[str, int | float | None]:
        return asdict(self)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def type_score(tp: int, fp: int, fn: int, tn: int) -> TypeScore:
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn) if tp + fn else None
    return TypeScore(tp, fp, fn, tn, precision, recall, f1)


def score_items(
    items: Iterable[tuple[IncidentType | None, Iterable[IncidentType]]], types: Iterable[IncidentType]
) -> dict[IncidentType, TypeScore]:
    """Per type, the counts over `(true type or None, types found)` pairs."""
    types = list(types)
    counts = {t: [0, 0, 0, 0] for t in types}  # tp, fp, fn, tn
    for truth, found in items:
        found = set(found)
        for t in types:
            index = (0 if t in found else 2) if truth == t else (1 if t in found else 3)
            counts[t][index] += 1
    return {t: type_score(*c) for t, c in counts.items()}
