"""The Reports page's CSV in its reader's words: headings, types, statuses, closing reasons and yes/no
in the user's language, camera names beside their ids, times in the installation's time zone with
their offset (ISO dates, which spreadsheets sort and filter; the page shows Buddhist-era dates)."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from citywatch.domain.languages import Language
from citywatch.services.stats import CsvWording
from citywatch.ui.i18n import t


def csv_wording(lang: Language, tz: ZoneInfo, camera_names: Mapping[str, str]) -> CsvWording:
    return CsvWording(
        heading=lambda column: t(f"csv.{column}", lang),
        type_name=lambda code: t(f"type.{code}", lang),
        status_name=lambda code: t(f"status.{code}", lang),
        reason_name=lambda code: t(f"reason.{code}", lang),
        yes=t("reports.yes", lang),
        no=t("reports.no", lang),
        camera_names=camera_names,
        tz=tz,
    )
