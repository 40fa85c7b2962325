"""The escalation ladder: tickets nobody answered reach people, louder and higher.

A ticket waiting on staff has a deadline (ESCALATION_AFTER of working time after it began to
wait). Levels are fixed points on the working-time clock, counted from the deadline:

- level 1 at the deadline: the staff chat, as a reply to the card;
- level 2 at deadline + ESCALATION_AFTER: the supervisors' chat (or the staff chat);
- level 3, 4, … every ESCALATION_REPEAT after that: level 2 again, as a reminder.

The store keeps the level reached and when the next one is due (`next_escalation_at`), so the
sweep asks only for due tickets. A sweep after downtime sends one message, of the level the
ticket has reached by now, never one per missed step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from handlers.config import DeskConfig, WorkingClock
from handlers.render import clean
from handlers.texts import Texts, escape
from storage.base import Incident, Store, Ticket, Transaction
from storage.values import Outbound, Platform, Purpose

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


def duration(texts: Texts, span: timedelta) -> str:
    """A span of working time as people read it: «9 ч 15 мин»."""
    minutes = max(int(span.total_seconds()) // 60, 0)
    return texts.get("esc-duration", hours=minutes // 60, minutes=minutes % 60)


def level_offset(level: int, config: DeskConfig) -> timedelta:
    """Working time from the deadline to `level` (1, 2, …)."""
    if level <= 1:
        return timedelta(0)
    return config.escalation_after + (level - 2) * config.escalation_repeat


def reached_level(overdue: timedelta, config: DeskConfig) -> int:
    """The level a ticket has reached `overdue` of working time after its deadline."""
    if overdue < config.escalation_after:
        return 1
    return 2 + (overdue - config.escalation_after) // config.escalation_repeat


def card_link(chat_id: str | None, message_id: str | None) -> str:
    """A t.me link to a message in a supergroup; "" where Telegram has no such link."""
    # Private supergroup links use the chat id without its -100 prefix; basic groups and
    # private chats have none. https://core.telegram.org/api/links#message-links
    if not chat_id or not message_id or not chat_id.startswith("-100"):
        return ""
    internal = chat_id.removeprefix("-100")
    if not internal.isdigit() or not message_id.isdigit():
        return ""
    return f"https://t.me/c/{internal}/{message_id}"


def escalation_message(
    texts: Texts, config: DeskConfig, ticket: Ticket, level: int, waited: timedelta,
) -> Outbound:
    """The message of one step of the ladder."""
    assert ticket.deadline_at is not None
    args = {
        "number": ticket.id,
        "waited": duration(texts, waited),
        "deadline": texts.moment(ticket.deadline_at.astimezone(config.timezone)),
        "summary": escape(clean(ticket.summary) or texts.get("empty-text")),
    }
    topic = None
    if level == 1:
        chat_id, topic = config.place(ticket.category)  # where the department sees the card
        text = texts.get("escalation-level-1", **args)
    else:
        chat_id = config.escalation_chat_id or config.staff_chat_id
        url = card_link(ticket.card_chat_id, ticket.card_message_id)
        card = (
            texts.get("escalation-card-link", url=url, number=ticket.id) if url
            else texts.get("escalation-card-unlinked", number=ticket.id)
        )
        key = "escalation-level-2" if level == 2 else "escalation-repeat"
        text = texts.get(key, card=card, level=level, **args)
    if level == 1 and ticket.holder_name:
        text += "\n" + texts.get("escalation-holder", holder=holder_mention(ticket))
    if level == 1 and config.duty_mentions.strip():
        text += "\n" + texts.html("escalation-mentions", mentions=config.duty_mentions.strip())
    return Outbound(
        platform=Platform.TELEGRAM,
        chat_id=chat_id,
        purpose=Purpose.ESCALATION,
        text=text,
        html=True,
        ticket_id=ticket.id,
        # Resolved at send time, and only in the chat that holds the card.
        reply_to_card=True,
        topic=topic,
    )


def holder_mention(ticket: Ticket) -> str:
    """The holder as an HTML mention, which notifies them; their name alone where Telegram
    has no user to mention (an anonymous administrator holds it as the chat)."""
    name = escape(ticket.holder_name or "")
    holder = ticket.holder_id or ""
    return f'<a href="tg://user?id={holder}">{name}</a>' if holder.isdigit() else name


@dataclass(frozen=True, slots=True)
class Step:
    """What the sweep does to one due ticket: a message (or none, for a stale mark)."""

    ticket_id: int
    level: int
    next_at: datetime | None
    message: Outbound | None


def next_step(
    texts: Texts, calendar: WorkingClock, config: DeskConfig, ticket: Ticket, now: datetime
) -> Step:
    """The step a due ticket takes now."""
    deadline = ticket.deadline_at
    if not ticket.is_open or ticket.waiting_since is None or deadline is None:
        # Nothing waits on staff: a stale mark would keep coming back in every sweep.
        return Step(ticket.id, ticket.escalation_level, None, None)
    overdue = calendar.working_time_between(deadline, now)
    # At least one step up, so a rounding quirk can never send the same level twice.
    level = max(reached_level(overdue, config), ticket.escalation_level + 1)
    waited = calendar.working_time_between(ticket.waiting_since, now)
    return Step(
        ticket.id,
        level,
        calendar.add_working_time(deadline, level_offset(level + 1, config)),
        escalation_message(texts, config, ticket, level, waited),
    )


async def as_incidents(
    tx: Transaction, texts: Texts, config: DeskConfig, due: list[Ticket], steps: list[Step],
) -> list[Step]:
    """Tickets of a confirmed incident escalate as one item: the first of them to reach a
    level says so for the incident (a reply to it reaches every reporter); the others
    climb their ladders silently."""
    tickets = {t.id: t for t in due}
    incidents: dict[int, Incident | None] = {}
    result = []
    for step in steps:
        ticket = tickets[step.ticket_id]
        if step.message is None or ticket.incident_id is None:
            result.append(step)
            continue
        if ticket.incident_id not in incidents:
            incidents[ticket.incident_id] = await tx.incident(ticket.incident_id)
        incident = incidents[ticket.incident_id]
        if incident is None or incident.state != "open":
            result.append(step)  # suggested: each ticket still has its own card
            continue
        # Once per level in each wait: each answer to the incident begins a new one.
        episode = await tx.get_state(answers_key(incident.id)) or "0"
        key = f"incident-escalated:{incident.id}:{episode}:{step.level}"
        message = None
        if await tx.get_state(key) is None:
            await tx.set_state(key, "1")
            waiting = [t for t in await tx.incident_tickets(incident.id) if t.waiting_since]
            message = incident_escalation(texts, config, incident, step.level, len(waiting))
        result.append(replace(step, message=message))
    return result


def answers_key(incident_id: int) -> str:
    """The state key counting the answers given to an incident."""
    return f"incident-answers:{incident_id}"


def incident_escalation(
    texts: Texts, config: DeskConfig, incident: Incident, level: int, waiting: int
) -> Outbound:
    """One step of an incident's ladder: under its card, then to the supervisors."""
    args = {"incident": texts.get("incident-number", id=incident.id),
            "title": escape(incident.title),
            "count": waiting, "level": level}
    if level == 1:
        chat_id, topic = config.place(incident.category)
        return Outbound(
            platform=Platform.TELEGRAM, chat_id=incident.card_chat_id or chat_id, topic=topic,
            purpose=Purpose.ESCALATION, text=texts.get("escalation-incident-1", **args),
            html=True, incident=incident.id, reply_to=incident.card_message_id,
        )
    url = card_link(incident.card_chat_id, incident.card_message_id)
    card = texts.get("escalation-incident-link", url=url, **args) if url else ""
    return Outbound(
        platform=Platform.TELEGRAM, chat_id=config.escalation_chat_id or config.staff_chat_id,
        purpose=Purpose.ESCALATION, html=True, incident=incident.id,
        text=texts.get("escalation-incident-2", card=card, **args),
    )


async def _apply(tx: Transaction, steps: list[Step], config: DeskConfig) -> int:
    await tx.enqueue_many([step.message for step in steps if step.message is not None])
    await tx.set_escalations([(step.ticket_id, step.level, step.next_at) for step in steps])
    sent = [step for step in steps if step.message is not None]
    for step in sent:
        log.info("ticket %s escalated to level %s", step.ticket_id, step.level)
        tx.after_commit(partial(config.events.escalated, step.level))
    return len(sent)


async def escalate_ticket(
    store: Store, texts: Texts, calendar: WorkingClock, config: DeskConfig, *, ticket_id: int,
    now: datetime,
) -> bool:
    """One step of the ladder for one ticket, if it is still due; True if a message went out."""
    async with store.transaction() as tx:
        ticket = await tx.ticket(ticket_id)
        if ticket is None or ticket.next_escalation_at is None or ticket.next_escalation_at > now:
            return False
        steps = [next_step(texts, calendar, config, ticket, now)]
        steps = await as_incidents(tx, texts, config, [ticket], steps)
        return await _apply(tx, steps, config) > 0


async def escalate_due(
    store: Store, texts: Texts, calendar: WorkingClock, config: DeskConfig, now: datetime,
) -> int:
    """The sweep: every due ticket one step up its ladder; returns how many escalated.

    Each batch is read and written in one transaction, under the store's write lock, so an
    answer cannot slip in between, and a commit per ticket is not paid.
    """
    escalated = 0
    while True:
        async with store.transaction() as tx:
            due = await tx.due_escalations(now, SWEEP_BATCH)
            steps = []
            for ticket in due:
                try:
                    steps.append(next_step(texts, calendar, config, ticket, now))
                except Exception:  # one broken ticket must not hold back the others
                    log.exception("escalation of ticket %s failed; next sweep tries again",
                                  ticket.id)
            escalated += await _apply(
                tx, await as_incidents(tx, texts, config, due, steps), config
            )
        if len(due) < SWEEP_BATCH or not steps:
            return escalated
