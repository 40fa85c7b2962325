"""Buttons under staff-side messages: each one is a command, pressed instead of typed.

A button's callback data is `do:` and the command it stands for (`do:/close`,
`do:/template 2`); a press comes back as that command, a reply to the message the button is
under, and goes the way the typed command goes. Only the commands below are taken: anything
else in callback data (forged by a client, or from an older keyboard) is refused.
"""

from __future__ import annotations

import re

from handlers.texts import Texts

PREFIX = "do:"
DATA_LIMIT = 64  # bytes of callback data Telegram keeps
INTERIM_DAYS = (3, 5, 7, 10)
TEMPLATE_BUTTONS = 20  # at most this many template buttons under a list
HOLDER_LABEL = 24  # characters of a holder's name on the «Взять» button
_PRESSED = re.compile(
    r"/(?:take|close|block|merge|apart(?: [0-9]{1,9})?|templates|interim(?: [0-9]{1,2})?"
    r"|template [0-9]{1,3}|move(?: [a-z0-9_-]{1,32})?)"
)

Buttons = tuple[tuple[tuple[str, str], ...], ...]


def data_of(command: str) -> str:
    """The callback data of a button sending `command`."""
    data = PREFIX + command
    if len(data.encode()) > DATA_LIMIT or command_of_press(data) is None:
        raise ValueError(f"not a button command: {command!r}")
    return data


def command_of_press(data: str | None) -> str | None:
    """The command a press sends; None for callback data the desk never put on a button."""
    if not data or len(data.encode()) > DATA_LIMIT or not data.startswith(PREFIX):
        return None
    command = data.removeprefix(PREFIX)
    return command if _PRESSED.fullmatch(command) else None


def card(texts: Texts, *, holder: str | None = None, moves: bool = False) -> Buttons:
    """Under a ticket's card: «Взять» (or who holds it), «Шаблон», «Срок»; «Отдел» where
    there are departments, «Закрыть», «Заблокировать»."""
    take = texts.get("button-held", name=_short(holder)) if holder else texts.get("button-take")
    return (
        (
            (take, data_of("/take")),
            (texts.get("button-templates"), data_of("/templates")),
            (texts.get("button-interim"), data_of("/interim")),
        ),
        (
            *(((texts.get("button-move"), data_of("/move")),) if moves else ()),
            (texts.get("button-close"), data_of("/close")),
            (texts.get("button-block"), data_of("/block")),
        ),
    )


def suggestion(texts: Texts) -> Buttons:
    """Under an incident suggestion: «Объединить», «Это разные»."""
    return ((
        (texts.get("button-merge"), data_of("/merge")),
        (texts.get("button-apart"), data_of("/apart")),
    ),)


def incident(texts: Texts) -> Buttons:
    """Under an open incident's card: «Закрыть» (all its tickets)."""
    return (((texts.get("button-close-incident"), data_of("/close")),),)


def joined(texts: Texts) -> Buttons:
    """Under the line of a ticket that joined an incident: «Это другое» takes it out."""
    return (((texts.get("button-not-incident"), data_of("/apart")),),)


def departments(choices: list[tuple[str, str]]) -> Buttons:
    """Under the «Отдел» list: one button per department (label, key), two to a row."""
    buttons = [(label, data_of(f"/move {key}")) for label, key in choices]
    return tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= HOLDER_LABEL else name[:HOLDER_LABEL - 1] + "…"


def templates(count: int) -> Buttons:
    """Under the `/templates` list: «1», «2», … sending `/template N`, five to a row."""
    places = range(1, min(count, TEMPLATE_BUTTONS) + 1)
    buttons = [(str(n), data_of(f"/template {n}")) for n in places]
    return tuple(tuple(buttons[i:i + 5]) for i in range(0, len(buttons), 5))


def interim(texts: Texts) -> Buttons:
    """Under the `/interim` usage: 3, 5, 7, 10 working days, sending `/interim N`."""
    return ((
        *((texts.get("button-interim-days", days=n), data_of(f"/interim {n}"))
          for n in INTERIM_DAYS),
    ),)
