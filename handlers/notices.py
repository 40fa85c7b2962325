"""What the desk tells staff about itself: updates it could not handle, a store started anew."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.outgoing import tell_staff
from handlers.texts import Texts
from storage.base import UNREADABLE_UNTOLD, Store, Transaction

SET_ASIDE_TOLD = "inbox:set-aside-told"  # when staff were last told of updates set aside
UNREADABLE_TOLD = "inbox:unreadable-told"  # when staff were last told of unreadable updates
TELL_AGAIN_AFTER = timedelta(hours=1)


async def updates_set_aside(
    store: Store, texts: Texts, staff_chat_id: str, *, count: int, reason: str, now: datetime
) -> bool:
    """One staff message for all the updates set aside; at most one an hour.

    Returns whether staff were told now (False: they were told within the hour).
    """
    text = texts.get("staff-intake-set-aside", count=count, reason=reason)
    async with store.transaction() as tx:
        told = await tx.get_state(SET_ASIDE_TOLD)
        if told and now - datetime.fromisoformat(told) < TELL_AGAIN_AFTER:
            return False
        await tx.enqueue(tell_staff(staff_chat_id, text))
        await tx.set_state(SET_ASIDE_TOLD, now.isoformat())
    return True


async def updates_unreadable(
    store: Store, texts: Texts, staff_chat_id: str, *, now: datetime
) -> bool:
    """One staff message for the updates that could not be read since the last; one an hour.

    Returns whether nothing is owed any more (False: told within the hour, still owed).
    The count is kept by the store as rows are finished; no citizen's text goes into it.
    """
    async with store.transaction() as tx:
        count = int(await tx.get_state(UNREADABLE_UNTOLD) or 0)
        if count <= 0:
            return True
        told = await tx.get_state(UNREADABLE_TOLD)
        if told and now - datetime.fromisoformat(told) < TELL_AGAIN_AFTER:
            return False
        await tx.enqueue(
            tell_staff(staff_chat_id, texts.get("staff-intake-unreadable", count=count))
        )
        await tx.set_state(UNREADABLE_TOLD, now.isoformat())
        await tx.set_state(UNREADABLE_UNTOLD, "0")
    return True


async def vk_events_missed(
    tx: Transaction, texts: Texts, staff_chat_id: str, tz: ZoneInfo,
    *, since: datetime | None, until: datetime,
) -> None:
    """VK's long poll lost events it cannot give back: a person has to look in VK itself."""
    def local(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")

    if since is None:
        text = texts.get("staff-vk-events-missed-before", until=local(until))
    else:
        text = texts.get("staff-vk-events-missed", since=local(since), until=local(until))
    await tx.enqueue(tell_staff(staff_chat_id, text))


async def updates_retried(store: Store) -> None:
    """Updates set aside went back to the queue: a new failure is news again."""
    async with store.transaction() as tx:
        await tx.set_state(SET_ASIDE_TOLD, "")


async def store_created(store: Store, texts: Texts, staff_chat_id: str, path: str) -> None:
    """A store file was created at this start: numbering begins at №1 again."""
    async with store.transaction() as tx:
        await tx.enqueue(tell_staff(staff_chat_id, texts.get("staff-new-store", path=path)))
