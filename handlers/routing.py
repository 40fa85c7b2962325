"""Departments and routing: which department a citizen's message goes to, by its words.

The operator lists the departments and the words that route a message to each in a TOML file
(docs/departments.example.toml). Words are compared on Russian lemmas, so «ямы на дорогах»
meets the rules «яма» and «дорога»; the department whose rules a message meets most gets it,
and a message that meets none stays in the staff chat. The morphology is loaded once per
process, on first use: a rules file is checked at start-up, a message routed in microseconds.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer

# A phrase matches when all its words stand within this many consecutive words of a message.
WINDOW = 4
# A message is judged by its first words: a pasted 100 KB document costs no more than a letter.
MAX_WORDS = 2000
MAX_CHARS = MAX_WORDS * 25
# Longer "words" are pasted links or keyboard mashing, never a dictionary word.
LONGEST = 40

FIELDS = ("key", "name", "chat", "topic", "words")
_KEY = re.compile(r"[a-z0-9_-]{1,32}")
_GROUP_ID = re.compile(r"-[1-9][0-9]{0,19}")  # Telegram's group and supergroup ids are negative
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
_CYRILLIC = re.compile("[а-я]")  # on a lowercased word, «ё» made «е»
_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")
_HEADER = re.compile(r"""\s*\[\[\s*(department|"department"|'department')\s*\]\]""")
_TABLE = re.compile(r"\s*\[")


@dataclass(frozen=True)
class Department:
    """Where a department's cards go, and the words and phrases that route a message there."""

    key: str  # short latin id, stored on the ticket
    name: str  # shown on the card, in /queue and in the digest
    chat_id: str | None  # its own Telegram group; None: a topic or the staff chat
    topic: int | None  # a forum topic of the staff chat; None: its own chat or the staff chat
    words: tuple[str, ...]


class RulesError(ValueError):
    """A rules file the desk cannot start with, said in one line: file, line, what is wrong."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file, self.line, self.problem = file, line, problem
        where = f"{file}, line {line}" if line else file
        super().__init__(" ".join(f"{where}: {problem}".splitlines()))


@functools.cache
def analyzer() -> MorphAnalyzer:
    """The Russian morphology, loaded once per process on first use (about 0.1 s)."""
    # Imported here, not at the top: the import alone takes 50 ms of every start.
    import pymorphy3  # noqa: PLC0415

    # Routing needs the set of normal forms, not which reading is likeliest: without the
    # probability estimator a word is analysed about twice as fast, with the same forms.
    return pymorphy3.MorphAnalyzer(lang="ru", probability_estimator_cls=None, result_type=None)


@functools.lru_cache(maxsize=50_000)
def lemmas(word: str) -> frozenset[str]:
    """The normal forms of every reading of a word, lowercased, «ё» as «е»: «ямы» → ям, яма.

    Cached: citizens use the same few thousand words, and a pure-Python dictionary look-up
    costs tens of microseconds.
    """
    word = word.lower().replace("ё", "е")
    if not _CYRILLIC.search(word):
        return frozenset((word,))  # a Latin or other word: the Russian dictionary has no forms
    try:
        found = analyzer().normal_forms(word)
    except ValueError:
        # pymorphy3 asks unicodedata for the name of each letter of an unknown word, and
        # some letters have none (Tangut ideographs, for one): such a word is its own lemma.
        return frozenset((word,))
    forms = frozenset(form.lower().replace("ё", "е") for form in found)
    return forms or frozenset((word,))


def rule_lemmas(word: str) -> frozenset[str]:
    """The lemmas a rule's word stands for: itself when written in a dictionary form.

    «дорога» is also the short form of «дорогой», and «дорогие жители» is not about roads: an
    operator who wrote «дорога» meant the road. A rule word in another form («батареи»,
    «скорая») stands for all its lemmas.
    """
    found = lemmas(word)
    written = word.lower().replace("ё", "е")
    return frozenset((written,)) if written in found else found


def words_of(text: str) -> list[str]:
    """A message's words to match, lowercased, «ё» as «е»: the first MAX_WORDS, numbers and
    overlong tokens left out."""
    # NFC: «й» typed as «и» and a combining breve is one letter to the tokeniser.
    text = unicodedata.normalize("NFC", text[:MAX_CHARS]).lower().replace("ё", "е")
    words = [word for word in _WORD.findall(text) if len(word) <= LONGEST and not word.isdigit()]
    return words[:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A rule of several words, looked up by its anchor: the word fewest other phrases share.

    «не» begins many phrases and is in most messages; «не топят» is looked up by «топить»,
    and only then is «не» looked for around it.
    """

    rule: int
    others: tuple[frozenset[str], ...]  # the lemmas of each word but the anchor

    def near(self, places: list[int], spots: dict[str, list[int]]) -> bool:
        """Whether WINDOW consecutive words, the anchor at one of `places`, hold the others."""
        others = []
        for part in self.others:
            found = [spots[lemma] for lemma in part if lemma in spots]
            if not found:
                return False  # most candidates: a word of the phrase is not in the message
            others.append(found)
        return any(
            all(any(_between(spots_of, start, start + WINDOW) for spots_of in part)
                for part in others)
            for position in places
            for start in range(max(position - WINDOW + 1, 0), position + 1)
        )


def _between(places: list[int], start: int, end: int) -> bool:
    """Whether a sorted list of positions has one in [start, end)."""
    index = bisect.bisect_left(places, start)
    return index < len(places) and places[index] < end


class Rules:
    """The departments in the file's order, and the lemma index that routes a message."""

    def __init__(self, departments: Iterable[Department]) -> None:
        self.departments = tuple(departments)
        self._by_key = {d.key: d for d in self.departments}
        self._owner: list[int] = []  # rule id → index of its department
        # lemma → ids of the one-word rules it meets; lemma → the phrases anchored on it
        self._single: dict[str, list[int]] = {}
        self._anchored: dict[str, list[_Phrase]] = {}
        phrases: list[tuple[int, list[frozenset[str]]]] = []
        for index, department in enumerate(self.departments):
            for rule in department.words:
                parts = [rule_lemmas(word) for word in words_of(rule)]
                if not parts:
                    continue
                rule_id = len(self._owner)
                self._owner.append(index)
                if len(parts) == 1:
                    for lemma in parts[0]:
                        self._single.setdefault(lemma, []).append(rule_id)
                else:
                    phrases.append((rule_id, parts))
        self._anchor(phrases)

    def _anchor(self, phrases: list[tuple[int, list[frozenset[str]]]]) -> None:
        """Index each phrase under the lemmas of its word that the fewest phrases share."""
        shared = Counter(lemma for _, parts in phrases for part in parts for lemma in part)
        for rule_id, parts in phrases:
            anchor = min(range(len(parts)), key=lambda i: sum(shared[m] for m in parts[i]))
            phrase = _Phrase(rule_id, tuple(p for i, p in enumerate(parts) if i != anchor))
            for lemma in parts[anchor]:
                self._anchored.setdefault(lemma, []).append(phrase)

    def department(self, key: str | None) -> Department | None:
        """The department of this key, or None (one removed from the file since, say)."""
        return self._by_key.get(key) if key is not None else None

    def route(self, text: str) -> Department | None:
        """The department whose rules the text meets most; a tie goes to the earlier one.

        None: no rule met, the message stays in the staff chat.
        """
        scores = [0] * len(self.departments)
        for rule_id in self._matched(words_of(text)):
            scores[self._owner[rule_id]] += 1
        best, best_score = None, 0
        for index, score in enumerate(scores):
            if score > best_score:
                best, best_score = self.departments[index], score
        return best

    def _matched(self, words: Sequence[str]) -> set[int]:
        """Ids of the rules met: a word's lemma, a phrase's words all within WINDOW words."""
        spots: dict[str, list[int]] = {}  # lemma → positions of the words that have it
        for position, word in enumerate(words):
            for lemma in lemmas(word):
                spots.setdefault(lemma, []).append(position)
        matched: set[int] = set()
        for lemma, places in spots.items():
            matched.update(self._single.get(lemma, ()))
            for phrase in self._anchored.get(lemma, ()):
                if phrase.rule not in matched and phrase.near(places, spots):
                    matched.add(phrase.rule)
        return matched


def load_rules(path: Path) -> Rules:
    """The departments file read and checked; RulesError says what is wrong and where."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RulesError(name, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        # utf-8-sig: an editor's byte-order mark at the start is no reason to refuse the file.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RulesError(name, line, f"not UTF-8 text (byte {data[exc.start]:#04x}); "
                         "save the file as UTF-8") from None
    return parse_rules(text, name)


def parse_rules(text: str, name: str) -> Rules:
    """The departments of a rules file's text; `name` is the file, for the errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, name) from None
    source = _Source(text, name)
    for field in data:
        if field != "department":
            raise source.error(source.top_line(field),
                               f"unknown setting {_shown(field)}: only [[department]] tables")
    tables = data.get("department")
    if tables is None:
        raise source.error(None, "no [[department]] tables")
    if not isinstance(tables, list) or not tables:
        raise source.error(source.top_line("department"),
                           "departments are written as [[department]] tables")
    keys: dict[str, int] = {}
    return Rules(_department(table, number, source, keys)
                 for number, table in enumerate(tables, 1))


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, name: str) -> RulesError:
    """tomllib's message, its "(at line X, column Y)" turned into the error's line."""
    message = str(exc)
    if at := _AT_LINE.search(message):
        problem = f"{message[:at.start()]} (column {at.group(2)})"
        return RulesError(name, int(at.group(1)), f"not valid TOML: {problem}")
    if at := _AT_END.search(message):
        last = max(len(text.splitlines()), 1)
        return RulesError(name, last, f"not valid TOML: {message[:at.start()]} (at the end)")
    return RulesError(name, None, f"not valid TOML: {message}")


def _department(table: object, number: int, source: _Source, keys: dict[str, int]) -> Department:
    """One [[department]] table checked: its fields, their types, a key not used before."""
    header = source.header_line(number)
    if not isinstance(table, dict):
        raise source.error(header, f"department {number} must be a table")
    key = table.get("key")
    valid_key = isinstance(key, str) and _KEY.fullmatch(key) is not None
    label = f'department "{key}"' if valid_key else f"department {number}"
    for field in table:
        if field not in FIELDS:
            raise source.error(source.field_line(number, field),
                               f"{label}: unknown field {_shown(field)} (the fields are "
                               f"{', '.join(FIELDS)})")
    for field in ("key", "name", "words"):
        if field not in table:
            raise source.error(header, f'{label}: "{field}" is missing')
    if not isinstance(key, str) or not valid_key:
        raise source.error(source.field_line(number, "key"),
                           f'{label}: "key" must be 1 to 32 of a-z, 0-9, "_" and "-", '
                           f"not {_shown(key)}")
    if key in keys:
        raise source.error(source.field_line(number, "key"),
                           f"{label}: the key is used twice, by departments {keys[key]} "
                           f"and {number}")
    keys[key] = number
    name = table["name"]
    if not isinstance(name, str) or not name.strip():
        raise source.error(source.field_line(number, "name"),
                           f'{label}: "name" must be a non-empty string')
    chat_id, topic = _destination(table, number, label, source)
    words = _words(table["words"], number, label, source)
    return Department(key=key, name=name.strip(), chat_id=chat_id, topic=topic, words=words)


def _destination(
    table: dict[str, object], number: int, label: str, source: _Source
) -> tuple[str | None, int | None]:
    """A department's own chat or its topic in the staff chat; neither: the staff chat."""
    chat, topic = table.get("chat"), table.get("topic")
    if chat is not None and topic is not None:
        line = max(source.field_line(number, "chat") or 0, source.field_line(number, "topic") or 0)
        raise source.error(line, f'{label}: both "chat" and "topic"; a department\'s cards go '
                           "to its own chat or to a topic of the staff chat, not both")
    if chat is not None:
        text = str(chat) if isinstance(chat, int) and not isinstance(chat, bool) else chat
        if not isinstance(text, str) or not _GROUP_ID.fullmatch(text.strip()):
            raise source.error(source.field_line(number, "chat"),
                               f'{label}: "chat" must be a group id, a negative number such '
                               f'as "-1001234567890", not {_shown(chat)}')
        return text.strip(), None
    if topic is not None:
        if isinstance(topic, bool) or not isinstance(topic, int) or topic <= 0:
            raise source.error(source.field_line(number, "topic"),
                               f'{label}: "topic" must be a positive whole number')
        return None, topic
    return None, None


def _words(value: object, number: int, label: str, source: _Source) -> tuple[str, ...]:
    """The words and phrases of a department: each one to four words of letters, no repeats."""
    line = source.field_line(number, "words")
    if not isinstance(value, list) or not value:
        raise source.error(line, f'{label}: "words" must be a non-empty list of words and '
                           "phrases")
    seen: dict[str, int] = {}
    for index, word in enumerate(value):
        where = f"{label}: words[{index}]"
        line = source.value_line(number, "words", word)
        if not isinstance(word, str) or not word.strip():
            raise source.error(line, f"{where} must be a non-empty string")
        tokens = _WORD.findall(word)
        if not tokens or any(t.isdigit() or len(t) > LONGEST for t in tokens):
            raise source.error(line, f"{where} {_shown(word)}: only words of letters are "
                               f"matched, not numbers or signs")
        if len(tokens) > WINDOW:
            raise source.error(line, f"{where} {_shown(word)}: a phrase of more than {WINDOW} "
                               "words never matches")
        same = " ".join(tokens).lower().replace("ё", "е")
        if same in seen:
            raise source.error(line, f"{where} {_shown(word)} repeats words[{seen[same]}]")
        seen[same] = index
    return tuple(word.strip() for word in value)


def _shown(value: object) -> str:
    """A value as an error quotes it: on one line, and short."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:59]}…"


class _Source:
    """The rules file's lines, to say on which one a checked value stands."""

    def __init__(self, text: str, name: str) -> None:
        self.lines = text.splitlines()
        self.name = name

    def error(self, line: int | None, problem: str) -> RulesError:
        return RulesError(self.name, line, problem)

    def header_line(self, number: int) -> int | None:
        """The line of the number-th [[department]] header (None: written inline)."""
        seen = 0
        for index, line in enumerate(self.lines, 1):
            if _HEADER.match(line):
                seen += 1
                if seen == number:
                    return index
        return self.top_line("department")

    def field_line(self, number: int, field: str) -> int | None:
        """The line of a field in the number-th department; its header's when not found."""
        header = self.header_line(number)
        if header is None or not _HEADER.match(self.lines[header - 1]):
            return header
        pattern = _field_pattern(field)
        name = re.escape(field)
        table = re.compile(rf"""\s*\[\s*department\s*\.\s*(?:{name}|"{name}"|'{name}')\s*[\].]""")
        for index in range(header, len(self.lines)):
            line = self.lines[index]
            if table.match(line):
                return index + 1  # [department.extra]: a table inside the department
            if _TABLE.match(line):
                break
            if pattern.match(line):
                return index + 1
        return header

    def value_line(self, number: int, field: str, value: object) -> int | None:
        """The line of a string in a field's list, as in a long list of words; else the
        field's line."""
        start = self.field_line(number, field)
        if start is None or not isinstance(value, str):
            return start
        written = (json.dumps(value, ensure_ascii=False), f"'{value}'")
        for index in range(start - 1, len(self.lines)):
            line = self.lines[index]
            if index >= start and _TABLE.match(line):
                break
            if any(literal in line for literal in written):
                return index + 1
        return start

    def top_line(self, field: str) -> int | None:
        """The line of a setting before the first table, or of a table of that name."""
        pattern = _field_pattern(field)
        table = re.compile(rf"\s*\[+\s*[\"']?{re.escape(field)}[\"']?\s*[\].]")
        for index, line in enumerate(self.lines, 1):
            if pattern.match(line) or table.match(line):
                return index
        return None


def _field_pattern(field: str) -> re.Pattern[str]:
    name = re.escape(field)
    return re.compile(rf"""\s*(?:{name}|"{name}"|'{name}')\s*[=.]""")
