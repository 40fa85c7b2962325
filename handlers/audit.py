"""The audit trail: every staff action recorded with it, and `/audit №17` for supervisors.

Each room that acts on a ticket or an incident writes an entry in the same transaction
(`tx.audit(by(inbound, …))`), so an action and its entry commit together or not at all.
An entry names the staff member (their Telegram user id and the name the desk knew then),
what was done, and a short fixed detail: never a citizen's text.

Supervisors are the people of the supervisors' chat, where level-2 escalations and low
ratings go: ESCALATION_CHAT_ID, or the staff chat itself without one. `/audit` is answered
there, to those who may give commands there (on STAFF_USER_IDS where it is set, anonymous
administrators of the chat counted as listed); anyone else is told, politely, who may.
"""

from __future__ import annotations

from datetime import datetime

from handlers.commands import number_arg, posted_as_chat
from handlers.incident_card import incident_number
from handlers.model import Inbound
from handlers.outgoing import tell_staff
from handlers.premises import Room
from handlers.render import clean, visible_length
from handlers.texts import escape
from storage.auditing import Actor, AuditAction, AuditEntry
from storage.base import Transaction
from storage.values import Platform

# Telegram takes 4,096 characters of text (https://core.telegram.org/bots/api#sendmessage);
# the listing is kept under it as escaped HTML, which is never shorter than what is shown:
# the oldest entries give way and are counted instead.
TEXT_LIMIT = 4000
NAME_CHARS = 40  # of a staff member's name in a line
MOVED = " → "  # between the departments in a move's detail


def by(
    inbound: Inbound, at: datetime, action: AuditAction, *, ticket: int | None = None,
    incident: int | None = None, detail: str = "",
) -> AuditEntry:
    """An entry for what the author of `inbound` (a staff message or press) just did."""
    return AuditEntry(
        at=at, action=action, actor=Actor.STAFF, staff_id=inbound.author_id,
        staff_name=inbound.author_name, ticket_id=ticket, incident_id=incident, detail=detail,
    )


def move_detail(old: str | None, new: str | None) -> str:
    """A move's detail: the department keys, `-` for none (the staff chat's own)."""
    return f"{old or '-'}{MOVED}{new or '-'}"


def short_name(name: str) -> str:
    """A staff member's name on one line, cut where it is long."""
    name = " ".join(clean(name).split())
    return (name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…") or "—"


class AuditDesk(Room):
    """`/audit №17` in a staff-side chat, in the staff message's transaction."""

    def is_supervisor(self, inbound: Inbound) -> bool:
        """Asked in the supervisors' chat by someone who may give commands there."""
        config = self.config
        listed = not config.staff_user_ids or (
            inbound.author_id in config.staff_user_ids or posted_as_chat(inbound)
        )
        return listed and inbound.chat_id == (config.escalation_chat_id or config.staff_chat_id)

    async def show(self, tx: Transaction, inbound: Inbound) -> None:
        """The ticket's entries, oldest first, into the chat it was asked in; a refusal for
        anyone but supervisors; a word on an unknown № or one without entries."""
        await tx.enqueue(tell_staff(
            inbound.chat_id or self.config.staff_chat_id, await self._told(tx, inbound),
            reply_to=inbound.message_id,
        ))

    async def _told(self, tx: Transaction, inbound: Inbound) -> str:
        if not self.is_supervisor(inbound):
            return self.texts.get("audit-refused")
        words = inbound.text.split(maxsplit=1)
        wanted = number_arg("".join(words[1].split())) if len(words) > 1 else None
        if wanted is None and len(words) == 1 and inbound.reply_to:
            # `/audit` as a reply to a card: that ticket's.
            about = await tx.ticket_by_ref(Platform.TELEGRAM, inbound.chat_id, inbound.reply_to)
            wanted = about[0].id if len(about) == 1 else None
        if wanted is None:
            return self.texts.get("audit-usage")
        if await tx.ticket(wanted) is None:
            return self.texts.get("audit-unknown", number=wanted)
        entries = await tx.audit_of_ticket(wanted)
        if not entries:
            return self.texts.get("audit-empty", number=wanted)
        return self.listing(wanted, entries)

    def listing(self, number: int, entries: list[AuditEntry]) -> str:
        """The entries as lines, oldest first, within one message: the oldest left out and
        counted when they do not fit."""
        header = self.texts.get("audit-header", number=number, count=len(entries))
        lines = [self.line(entry) for entry in entries]
        # Counted as Telegram counts: UTF-16 units (an emoji in a name is two).
        budget = TEXT_LIMIT - visible_length(escape(header)) - 200  # the «earlier» line
        kept: list[str] = []
        for line in reversed(lines):
            budget -= visible_length(escape(line)) + 1
            if budget < 0:
                break
            kept.append(line)
        kept.reverse()
        head = [header]
        if len(kept) < len(lines):
            head.append(self.texts.get("audit-earlier", count=len(lines) - len(kept)))
        return "\n".join(head + kept)

    def line(self, entry: AuditEntry) -> str:
        """One entry: when (local time), who, what."""
        local = entry.at.astimezone(self.config.timezone)
        return self.texts.get(
            "audit-line", moment=f"{local:%d.%m.%Y %H:%M}", who=self.who(entry),
            what=self.what(entry),
        )

    def who(self, entry: AuditEntry) -> str:
        if entry.actor is Actor.CITIZEN:
            return self.texts.get("audit-citizen")
        return self.texts.get("audit-staff", name=short_name(entry.staff_name),
                              id=entry.staff_id or "—")

    def what(self, entry: AuditEntry) -> str:
        detail = entry.detail
        args: dict[str, str | int] = {"detail": detail, "incident": "—"}
        if entry.incident_id is not None:
            args["incident"] = incident_number(self.texts, entry.incident_id)
        key = f"audit-{entry.action.value.replace('_', '-')}"
        if entry.action is AuditAction.MOVED:
            old, _, new = detail.partition(MOVED)
            args |= {"from": self._department(old or "-"), "to": self._department(new or "-")}
        elif entry.action is AuditAction.TAKEN and detail:
            key, args["previous"] = "audit-taken-over", short_name(detail)
        text = self.texts.get(key, **args)
        if entry.incident_id is not None and entry.action in (
            AuditAction.ANSWERED, AuditAction.CORRECTED, AuditAction.CLOSED,
        ):
            text += " " + self.texts.get("audit-through-incident", incident=args["incident"])
        return text

    def _department(self, key: str) -> str:
        if key == "-":
            return self.texts.get("department-general")
        return self.config.department_name(key) or key
