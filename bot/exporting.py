"""The export's run: the store's pages through the rows into the file, with a progress bar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tqdm import tqdm

from bot.export_files import written
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig, utc_now
from handlers.export_rows import ExportRows
from handlers.texts import Texts

if TYPE_CHECKING:
    from handlers.routing import Rules
    from storage import Store


def span(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local days first..last, both included."""
    start = datetime.combine(first, time(), tzinfo=tz)
    return start, datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)


def rows_of(
    *, timezone: str, business_hours: str, escalation_after: timedelta, locale: str,
    locales_dir: str, rules: Rules | None, personal: bool,
) -> ExportRows:
    """The rows as the desk of these settings measures them, now."""
    zone = ZoneInfo(timezone)
    config = DeskConfig(staff_chat_id="", timezone=zone, escalation_after=escalation_after,
                        departments=rules)
    calendar = WorkCalendar(BusinessHours.parse(business_hours), zone)
    folder = Path(locales_dir) if locales_dir else None
    return ExportRows(calendar, config, Texts(locale, folder), utc_now(), personal)


async def export(
    store: Store, rows: ExportRows, first: date, last: date, *, out: Path, kind: str,
    progress: bool = False,
) -> int:
    """Every ticket opened first..last into `out`; how many. The store is opened and closed."""
    start, end = span(first, last, rows.config.timezone)
    await store.open()
    try:
        total = await store.export_count(start, end) if progress else None
        count = 0
        with (
            tqdm(total=total, unit=" tickets", disable=not progress, leave=False) as bar,
            written(out, kind) as sheet,
        ):
            sheet.write(rows.header())
            async for item in store.export_tickets(start, end, personal=rows.personal):
                sheet.write(rows.row(item))
                count += 1
                bar.update()
    finally:
        await store.close()
    return count
