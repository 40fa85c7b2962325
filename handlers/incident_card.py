"""An incident's card in the staff chat: what it says, and when its edits go.

The card is the one place staff see an incident: its number, title, reporters per platform,
the latest of those who joined without a line of their own, and how its answer goes out. Its
text is written whole each time; edits of one card queued together go as the latest alone
(`bot.sender`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from handlers import buttons
from handlers.config import DeskConfig
from handlers.texts import Texts
from storage.base import Incident, Transaction
from storage.values import Outbound, Platform, Purpose

NUMBERS_SHOWN = 50  # ticket numbers listed on a card; the rest counted


def incident_number(texts: Texts, incident_id: int) -> str:
    """How an incident is named in every message: «И-3», after «№»."""
    return texts.get("incident-number", id=incident_id)


def answer_rows_key(incident_id: int) -> str:
    """The state key of the first outbox row of the latest answer to an incident."""
    return f"incident-answer-rows:{incident_id}"


async def incident_card(
    tx: Transaction, texts: Texts, config: DeskConfig, incident: Incident, *,
    edit: bool = False,
) -> Outbound:
    """An open incident's card: its number, title, reporters by platform, how its latest
    answer is going out, «Закрыть все».

    With `edit`, the new text of the card already posted: edits queued for it are sent as
    the latest one alone (`bot.sender`), within the group's limit.
    """
    counts, first = await tx.incident_reporters(incident.id, NUMBERS_SHOWN)
    total = sum(counts.values())
    lines = [
        texts.html("incident-card", incident=incident_number(texts, incident.id),
                   title=incident.title, count=total,
                   telegram=counts.get(Platform.TELEGRAM.value, 0),
                   vk=counts.get(Platform.VK.value, 0)),
        texts.html("incident-numbers", numbers=numbers(texts, first, total)),
    ]
    since = await tx.get_state(answer_rows_key(incident.id))
    if since is not None and since.isdigit():
        rows, sent, failed = await tx.incident_answer_rows(incident.id, int(since))
        lines.append(texts.html("incident-progress", sent=sent, count=rows, failed=failed))
    lines.append(texts.html("incident-card-hint"))
    chat_id, topic = config.place(incident.category)
    card = Outbound(
        platform=Platform.TELEGRAM, chat_id=chat_id, topic=topic,
        purpose=Purpose.INCIDENT_CARD, text="\n".join(lines), html=True,
        incident=incident.id,
        buttons=buttons.incident(texts) if incident.state == "open" else (),  # closed: none
    )
    if edit and incident.card_chat_id and incident.card_message_id:
        return replace(card, chat_id=incident.card_chat_id, edits=incident.card_message_id)
    return card


def numbers(texts: Texts, ids: Sequence[int], total: int | None = None) -> str:
    """«№3, №7, №12» — the first NUMBERS_SHOWN of `total` (all of `ids` unless given), then
    how many more."""
    shown = ", ".join(texts.get("ticket-number", number=n) for n in ids[:NUMBERS_SHOWN])
    rest = (len(ids) if total is None else total) - min(len(ids), NUMBERS_SHOWN)
    return texts.get("incident-numbers-more", numbers=shown, count=rest) if rest > 0 else shown
