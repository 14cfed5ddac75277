"""The API's answer models that mirror a service's value carry exactly its fields: a field added to
the value and not to the answer (or the other way) would vanish from the API or fail at run time."""

import dataclasses

from citywatch.api.schemas import AuditEntryOut, StatsOut
from citywatch.services.stats import IncidentStats
from citywatch.storage.audit import AuditEntry


def fields_of(value_class: type) -> set[str]:
    return {field.name for field in dataclasses.fields(value_class)}


def test_stats_answer_is_the_stats_value_with_its_period() -> None:
    assert set(StatsOut.model_fields) == fields_of(IncidentStats) | {"since", "until", "timezone"}


def test_audit_answer_is_the_audit_entry() -> None:
    assert set(AuditEntryOut.model_fields) == fields_of(AuditEntry)
