"""Mass incidents at intake: many citizens writing about one problem become one incident.

Each new ticket is compared with the tickets opened in the last INCIDENT_WINDOW
(`handlers.similarity`: the same department, like words on Russian lemmas, the same place).
When INCIDENT_REPORTS of them look alike, staff get one suggestion card with «Объединить» and
«Это разные». Once staff confirm, a new ticket like its reporters joins the incident: its
citizen gets the incident's acknowledgement and staff no card of its own, only a line under
the incident's card. What staff do with an incident is `handlers.incident_desk`.

The index of recent tickets lives in memory, filled from the store on the first message after
a start, so its work per ticket stays bounded whatever the size of the store.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime

from handlers import buttons, render
from handlers.incident_card import (
    alarming,
    enqueue_edit,
    incident_card,
    incident_number,
    numbers,
    short,
    take_line,
)
from handlers.model import Inbound
from handlers.outgoing import replying_to
from handlers.premises import Room
from handlers.similarity import RecentReports, Report, report_of, summary
from storage.base import Incident, Ticket, Transaction
from storage.values import Channel, Outbound, Platform, Purpose

log = logging.getLogger(__name__)

_LOADING = asyncio.Lock()

LOOKED_AT = 30  # of the most alike recent tickets, this many are read from the store
SAMPLES = 3  # citizens' texts quoted on a suggestion card
RELOADED = 20_000  # recent tickets read back into the index after a start
JOIN_AFTER = 3  # tickets of a confirmed incident a new one must be alike with to join it


class Incidents(Room):
    """Detection at filing: joining a confirmed incident, or suggesting a new one."""

    @property
    def enabled(self) -> bool:
        return self.config.incident_reports > 0

    @property
    def recent(self) -> RecentReports:
        if self.premises.recent is None:
            self.premises.recent = RecentReports(window=self.config.incident_window)
        return self.premises.recent

    async def ensure_loaded(self) -> None:
        """The index of recent tickets, read back from the store once after a start.

        Outside any transaction: the store's reads wait for an open one to end.
        """
        if not self.enabled or self.premises.recent is not None:
            return
        async with _LOADING:  # a second message waits for the first one's load
            if self.premises.recent is not None:
                return
            recent = RecentReports(window=self.config.incident_window)
            since = self.now() - self.config.incident_window
            # A failed read leaves no index, so the next message tries again.
            for ticket, text in reversed(await self.store.recent_reports(since, RELOADED)):
                recent.add(report_of(ticket.id, ticket.opened_at, ticket.category, text))
            self.premises.recent = recent

    async def joined(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, now: datetime,
        ack_at: datetime | None = None,
    ) -> Incident | None:
        """The confirmed incident a new ticket joins, its acknowledgement (at `ack_at`, if
        given) and the line under the incident's card enqueued; None: the ticket is filed
        as any other."""
        if not self.enabled:
            return None
        report = report_of(ticket.id, now, ticket.category, inbound.text)
        alike = await self._alike(tx, report, now)
        self.recent.add(report)
        opened = _joinable(alike)
        if opened is not None:
            await tx.join_incident(ticket.id, opened.id)
            await tx.enqueue(self._acknowledgement(inbound, ticket, opened), not_before=ack_at)
            alarm = alarming(inbound.text, opened.title)
            if await take_line(tx, opened.id, ticket.id, now, alarm=alarm):
                await tx.enqueue_many(self._joined_line(opened, ticket, inbound))
            await enqueue_edit(tx, self.texts, self.config, opened, now)  # the count
            return opened
        live = [incident for incident, _ in alike if incident is not None]
        suggested = next((i for i in live if i.state == "suggested"), None)
        if suggested is not None:
            await tx.join_incident(ticket.id, suggested.id)
            return None
        free = [t for incident, t in alike if incident is None]
        if len(free) + 1 >= self.config.incident_reports:
            await self._suggest(tx, [*free, ticket], now)
        return None

    async def _alike(
        self, tx: Transaction, report: Report, now: datetime
    ) -> list[tuple[Incident | None, Ticket]]:
        """The open recent tickets alike with `report`, each with its live incident."""
        found: list[tuple[Incident | None, Ticket]] = []
        ids = self.recent.similar(report, now)[:LOOKED_AT]
        apart = await tx.apart(ids)
        stored = {t.id: t for t in await tx.tickets(ids)}
        incidents: dict[int, Incident | None] = {}
        for ticket_id in ids:  # most alike first
            ticket = stored.get(ticket_id)
            if ticket is None or ticket_id in apart:
                self.recent.forget(ticket_id)
                continue
            if not ticket.is_open:
                continue
            incident = None
            if ticket.incident_id is not None:
                if ticket.incident_id not in incidents:
                    incidents[ticket.incident_id] = await tx.incident(ticket.incident_id)
                incident = incidents[ticket.incident_id]
                if incident is not None and not incident.is_live:
                    continue  # a closed incident's reporters are answered: they start anew
            found.append((incident, ticket))
        return found

    async def _suggest(self, tx: Transaction, tickets: list[Ticket], now: datetime) -> None:
        """A suggested incident of these tickets, and its card with the two buttons."""
        tickets.sort(key=lambda t: t.id)
        reports = [report_of(t.id, t.opened_at, t.category, t.summary) for t in tickets]
        topic, place = summary(reports)
        title = ", ".join(part for part in (topic, place) if part) or tickets[0].summary[:60]
        category = next((t.category for t in tickets if t.category), None)
        incident = await tx.create_incident(title, category, [t.id for t in tickets], now)
        samples = [t.summary for t in tickets[-SAMPLES:]]
        await tx.enqueue(self.suggestion_card(incident, tickets, samples))
        log.info("incident %s suggested over %d tickets", incident.id, len(tickets))

    def suggestion_card(
        self, incident: Incident, tickets: list[Ticket], samples: list[str]
    ) -> Outbound:
        lines = [
            self.texts.html("incident-suggested", count=len(tickets), title=incident.title),
            self.texts.html("incident-numbers",
                            numbers=numbers(self.texts, [t.id for t in tickets])),
        ]
        lines += [self.texts.html("incident-sample", text=short(sample))
                  for sample in samples if sample.strip()]
        lines.append(self.texts.html("incident-suggested-hint"))
        chat_id, topic = self.config.place(incident.category)
        return Outbound(
            platform=Platform.TELEGRAM, chat_id=chat_id, topic=topic,
            purpose=Purpose.INCIDENT_CARD, text="\n".join(lines), html=True,
            incident=incident.id, buttons=buttons.suggestion(self.texts),
        )

    async def card(self, tx: Transaction, incident: Incident, *, edit: bool = False) -> Outbound:
        """An open incident's card; see `incident_card`."""
        return await incident_card(tx, self.texts, self.config, incident, edit=edit)

    def _acknowledgement(self, inbound: Inbound, ticket: Ticket, incident: Incident) -> Outbound:
        key = "incident-ack-comment" if inbound.channel is Channel.COMMENT else "incident-ack"
        return replying_to(
            inbound, Purpose.ACK,
            self.texts.get(key, number=ticket.id, title=incident.title), ticket.id,
        )

    def _joined_line(
        self, incident: Incident, ticket: Ticket, inbound: Inbound
    ) -> list[Outbound]:
        """Under the incident's card: one more reporter, with all they wrote and their media.

        The line is about the ticket, not the incident: a reply to it answers that citizen
        alone, «Это другое» takes the ticket out.
        """
        chat_id, topic = self.config.place(incident.category)
        chat_id = incident.card_chat_id or chat_id
        header = self.texts.html(
            "incident-joined", incident=incident_number(self.texts, incident.id),
            number=ticket.id, platform=render.platform_name(self.texts, ticket.platform),
        )
        line = Outbound(
            platform=Platform.TELEGRAM, chat_id=chat_id, topic=topic,
            purpose=Purpose.STAFF_NOTICE, ticket_id=ticket.id, html=True,
            text=render.with_body(
                header, render.message_html(self.texts, inbound.text, inbound.attachments)
            ),
            reply_to=incident.card_message_id, buttons=buttons.joined(self.texts),
        )
        if not (inbound.attachments and inbound.platform is Platform.TELEGRAM):
            return [line]
        # The citizen's own message copied under it: their photo, document or voice.
        return [line, replace(line, text="", html=False, buttons=(),
                              copy_from=(inbound.chat_id, inbound.message_id))]


def _joinable(alike: list[tuple[Incident | None, Ticket]]) -> Incident | None:
    """The confirmed incident a new ticket joins: the one most of the tickets it is alike
    with belong to, if JOIN_AFTER of them do: one short member alike with anything about
    heating must not pull every such message in."""
    counts: dict[int, int] = {}
    found: dict[int, Incident] = {}
    for incident, _ in alike:
        if incident is not None and incident.state == "open":
            counts[incident.id] = counts.get(incident.id, 0) + 1
            found[incident.id] = incident
    if not counts:
        return None
    best = max(counts, key=lambda i: counts[i])
    return found[best] if counts[best] >= JOIN_AFTER else None
