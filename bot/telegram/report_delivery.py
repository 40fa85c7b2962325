"""The weekly report as a Telegram photo: drawn from the store when its outbox row goes.

The row keeps only the week; the figures are read and the chart drawn at send time, so no
image is kept in the store and a retry draws it again. The PNG goes up as a multipart file
(`sendPhoto` with `photo` as a file part, https://core.telegram.org/bots/api#sending-files),
the summary as its caption, or, longer than a caption may be (1024 characters), as a
message after the photo.

A store that cannot be read now raises, and the sender tries the row again later. A chart
that cannot be drawn is not tried again: the summary goes alone, saying so in words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.types import BufferedInputFile, LinkPreviewOptions, ReplyParameters

from bot.telegram.split import CAPTION_LIMIT, split_plain
from handlers.config import DeskConfig, WorkingClock
from handlers.render import visible_length
from handlers.report import ReportFigures, WrongWeek, parse_week, summary_text, week_figures
from handlers.texts import Texts
from storage.base import Store
from storage.values import Outbound

log = logging.getLogger(__name__)

SendPart = Callable[[Callable[[], Awaitable[int]]], Awaitable[None]]
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class ReportNotSent(Exception):
    """A report row that cannot go in any form (it names no week): a permanent failure."""


class ReportDelivery:
    """Draws and sends the weekly report's rows."""

    def __init__(
        self, store: Store, texts: Texts, calendar: WorkingClock, config: DeskConfig
    ) -> None:
        self.store = store
        self.texts = texts
        self.calendar = calendar
        self.config = config

    async def send(
        self, bot: Bot, out: Outbound, send_part: SendPart, reply: ReplyParameters | None
    ) -> None:
        """The chart with its summary into the row's chat, each part through `send_part`
        (which skips the parts an earlier attempt delivered)."""
        try:
            monday = parse_week(out.text)
        except WrongWeek:
            raise ReportNotSent(f"a report row names no week: {out.text[:20]!r}") from None
        # Read outside the guard below: a store gone for a while is worth a retry.
        figures = await week_figures(self.store, self.texts, self.calendar, self.config, monday)
        chat_id = int(out.chat_id)
        # Drawing takes a second of CPU (the first time, matplotlib's import too): on a
        # thread of its own, so the desk's intake and other sends go on meanwhile.
        drawn = await asyncio.to_thread(self._draw, figures)
        if isinstance(drawn, str):  # the chart failed: the summary alone, and why
            await self._text_parts(bot, chat_id, drawn, send_part, reply, topic=out.topic)
            return
        png, summary = drawn
        caption = summary if visible_length(summary) <= CAPTION_LIMIT else None

        async def photo() -> int:
            sent = await bot.send_photo(
                chat_id=chat_id,
                photo=BufferedInputFile(png, filename=f"report-{figures.week}.png"),
                caption=caption, reply_parameters=reply, message_thread_id=out.topic,
            )
            return sent.message_id

        await send_part(photo)
        if caption is None:
            await self._text_parts(bot, chat_id, summary, send_part, None, topic=out.topic)

    def _draw(self, figures: ReportFigures) -> tuple[bytes, str] | str:
        """(the PNG, the summary); or, where the chart cannot be drawn, the words saying so
        with the summary."""
        summary = summary_text(self.texts, figures)
        try:
            from bot.chart import render_png  # noqa: PLC0415 (matplotlib only when drawing)

            return render_png(self.texts, figures), summary
        except Exception as exc:  # any failure of the drawing: the figures still go
            log.exception("the chart of week %s could not be drawn", figures.week)
            note = self.texts.get("report-not-drawn", week=figures.week,
                                  reason=type(exc).__name__)
            return f"{summary}\n\n{note}"

    async def _text_parts(
        self, bot: Bot, chat_id: int, text: str, send_part: SendPart,
        reply: ReplyParameters | None, *, topic: int | None,
    ) -> None:
        for part in split_plain(text):
            async def message(part: str = part) -> int:
                sent = await bot.send_message(
                    chat_id=chat_id, text=part, reply_parameters=reply,
                    link_preview_options=_NO_PREVIEW, message_thread_id=topic,
                )
                return sent.message_id

            await send_part(message)


async def send_report(
    report: ReportDelivery | None, bot: Bot, out: Outbound, send_part: SendPart,
    reply: ReplyParameters | None,
) -> None:
    """A report row through `report`; ReportNotSent where this desk draws no reports."""
    if report is None:
        raise ReportNotSent("this desk does not draw weekly reports")
    await report.send(bot, out, send_part, reply)
