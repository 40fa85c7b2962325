"""Every user-facing sentence, rendered from the Fluent files in `locales/`."""

from __future__ import annotations

import functools
import html
from datetime import datetime
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import FluentInt, NumberFormatOptions

DEFAULT_LOCALES = Path(__file__).resolve().parent.parent / "locales"
FALLBACK_LOCALE = "ru"


class Whole(FluentInt):
    """A whole number shown as its digits: №1234, never «1 234».

    Fluent would format it through Babel with the locale's grouping (and spend most of a
    message's rendering time on it); it still matches numeric variants such as `[11]` and
    plural categories.
    """

    options = NumberFormatOptions(useGrouping=False)

    def __new__(cls, value: int) -> Whole:
        return int.__new__(cls, value)

    def format(self, locale: object) -> str:
        return str(int(self))


class TextsError(Exception):
    """The locale files are missing or broken."""


def escape(text: str) -> str:
    """Citizen text made safe for Telegram's HTML parse mode (only <, > and & matter)."""
    return html.escape(text, quote=False)


class Texts:
    """Texts of one locale, with the default locale behind it for keys it lacks."""

    def __init__(self, locale: str = FALLBACK_LOCALE, folder: Path | None = None) -> None:
        self.locale = locale
        self.folder = folder or DEFAULT_LOCALES
        self._setting = "LOCALES_DIR" if folder else "LOCALE"
        self._bundles = [self._load(locale)]
        if locale != FALLBACK_LOCALE:
            self._bundles.append(self._load(FALLBACK_LOCALE))
        if self.folder.resolve() != DEFAULT_LOCALES.resolve():
            # An operator's folder copied from an earlier release lacks the texts added since
            # (a button's label, say): the shipped ones stand in rather than a card failing.
            for name in dict.fromkeys((locale, FALLBACK_LOCALE)):
                if (DEFAULT_LOCALES / name).is_dir():
                    self._bundles.append(self._load(name, DEFAULT_LOCALES))

    def _load(self, locale: str, root: Path | None = None) -> FluentBundle:
        folder = (root or self.folder) / locale
        files = sorted(folder.glob("*.ftl")) if folder.is_dir() else []
        if not files:
            raise TextsError(f"{self._setting}: no texts for {locale!r} in {folder}")
        # use_isolating=False: no invisible bidi marks around numbers in messengers.
        bundle = FluentBundle([locale], use_isolating=False)
        for path in files:
            resource = FluentResource(path.read_text(encoding="utf-8"))
            bundle.add_resource(resource, allow_overrides=True)
        return bundle

    def keys(self) -> set[str]:
        """Message keys the primary locale defines."""
        return set(self._bundles[0]._messages)

    def titled(self, prefix: str) -> list[tuple[str, str]]:
        """(key, its `.title`) of the locale's own messages starting with `prefix`, in file order.

        Only the chosen locale's: an operator's canned answers are their own list, not the
        default locale's behind it. A message without a title is listed by its key.
        """
        bundle = self._bundles[0]
        found = []
        for key in bundle._messages:
            if not key.startswith(prefix):
                continue
            title = bundle.get_message(key).attributes.get("title")
            text, _ = bundle.format_pattern(title, {}) if title is not None else (key, [])
            found.append((key, str(text)))
        return found

    def get(self, key: str, **args: Any) -> str:
        """A plain text."""
        values = {
            k: Whole(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in args.items()
        }
        for bundle in self._bundles:
            if bundle.has_message(key):
                message = bundle.get_message(key)
                if message.value is None:
                    break
                text, errors = bundle.format_pattern(message.value, values)
                if errors:
                    raise TextsError(f"text {key!r}: {errors[0]}")
                return str(text)
        raise TextsError(f"no text {key!r} in locale {self.locale!r}")

    def html(self, key: str, **args: Any) -> str:
        """A text for Telegram's HTML mode: every string argument is escaped."""
        escaped = {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}
        return self.get(key, **escaped)

    def moment(self, local: datetime) -> str:
        """A local time as people read it: «12:00 25 ноября»."""
        return self._moment(local.month, local.day, local.hour, local.minute)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Texts lives as long as the process
    def _moment(self, month: int, day: int, hour: int, minute: int) -> str:
        # In a storm everyone gets the same deadline; render it once.
        return self.get("moment", time=f"{hour:02d}:{minute:02d}", day=day, month=month)
