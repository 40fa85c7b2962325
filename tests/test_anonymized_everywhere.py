"""A ticket whose citizen's data is gone (retention, /forget) met by the rest of the desk: a
staff edit of an old answer, /interim, /move, a rating press on the old closing message,
/queue, the digest, the sweep, the export's rows, the weekly figures and /audit. None of them
crashes, brings the data back, or sends anything to the empty chat the ticket now has."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from handlers import rating
from handlers.desk import FrontDesk
from handlers.digest import send_digest
from handlers.escalation import escalate_due
from handlers.export_rows import ExportRows
from handlers.model import Event
from handlers.report import week_figures
from handlers.texts import Texts
from storage import SqliteStore
from tests.conftest import FixedClock
from tests.test_audit import citizen as tc_citizen
from tests.test_audit import staff as tc_staff
from tests.test_escalation import deliver
from tests.test_forget import closed_and_forgotten
from tests.test_retention import everything


async def test_the_rest_of_the_desk_meets_an_anonymized_ticket_without_harm(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock, texts: Texts,
) -> None:
    card = await closed_and_forgotten(desk, store, clock)
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.anonymized

    # Staff edit their old answer; ask for an interim answer and a move on the old card.
    edited = replace(tc_staff("Засыплем до понедельника.", card, 901), event=Event.EDITED)
    await desk.receive(edited)
    await desk.receive(tc_staff("/interim 3", card, 910))
    await desk.receive(tc_staff("/queue", None, 911))
    # The citizen presses a rating button of the old closing message.
    press = replace(tc_citizen(rating.data_of(1, 5)), key="telegram:press:42:1:r")
    await desk.ratings.rate(press)
    clock.advance(hours=30)
    sent = await deliver(store)

    assert all(o.chat_id for o in sent), [(o.purpose, o.chat_id) for o in sent]
    assert "Яма" not in await everything(store)
    assert "кв. 17" not in await everything(store)
    # The figures and the register still count it, with nothing of the citizen's.
    rows = ExportRows(desk.premises.calendar, desk.premises.config, texts, clock.moment)
    far = clock.moment - timedelta(days=30), clock.moment + timedelta(days=30)
    exported = [rows.row(item) async for item in store.export_tickets(*far, personal=True)]
    assert len(exported) == 1 and "Иван" not in str(exported) and "Яма" not in str(exported)
    monday = (clock.moment - timedelta(days=clock.moment.weekday())).date()
    figures = await week_figures(store, texts, desk.premises.calendar, desk.premises.config,
                                 monday)
    assert figures is not None
    await send_digest(store, texts, desk.premises.calendar, desk.premises.config,
                      clock.moment + timedelta(days=1))
    await escalate_due(store, texts, desk.premises.calendar, desk.premises.config,
                       clock.moment + timedelta(days=3))
    later = await deliver(store)
    assert all(o.chat_id for o in later), [(o.purpose, o.chat_id) for o in later]
    assert "Иван" not in await everything(store)
