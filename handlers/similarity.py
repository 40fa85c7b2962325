"""Which recent tickets look like the same problem: the likeness mass incidents are found by.

The day a district loses heating, hundreds of citizens write about it within an hour, each in
their own words: «не топят на Ленина», «ОТОПЛЕНИЯ НЕТ!!!», «батареи холодные, ул. Ленина 5».
Two tickets' first messages are alike when their departments do not differ (a department
routing does not know matches any), they share enough content words, compared on Russian
lemmas and forgiving vowel typos, and they name the same place, when both name one. Greetings,
function words and the words of every complaint («здравствуйте», «у нас», «уже», «когда»)
never make two messages alike. No geocoder: a place is its name as written, normalised.

The recent tickets are kept in memory, in an inverted index from each content key to the
tickets that have it, so a new ticket is compared with a bounded number of candidates however
many tickets the window holds.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.routing import MAX_CHARS, MAX_WORDS, analyzer, lemmas, words_of

# The content keys of a message are those of its first words: a pasted letter of complaint
# costs as much as a tweet, and its opening says what it is about.
MAX_KEYS = 24
# Places a message is judged by: a letter listing a dozen streets is about none in particular.
MAX_PLACES = 8
# Per key or place of a new ticket, this many of the newest tickets with it are read, and of
# all those read, the CANDIDATES sharing most are compared: at most (24 + 8) × 500 = 16,000
# index entries read and 200 comparisons per new ticket, whatever the window holds.
PER_KEY = 500
CANDIDATES = 200
# Shorter words are abbreviations («кв», «д») or function words; keys are of longer ones.
SHORTEST = 3

# Two reports are alike when they share at least half the weight of the keys of the one with
# fewer, or ENOUGH weight whatever their lengths (two long letters about one outage). A key
# weighs 1, an outage's (KIN) weighs OUTAGE: «не топят» and «батареи ледяные, пенсионеры
# замерзают» are the same complaint by the outage alone.
ENOUGH = 3
OUTAGE = 2

_VOWELS = str.maketrans("", "", "аеиоуыэюяйьъ")
# Latin letters that look like Cyrillic ones, typed by a keyboard switched mid-word: «oтoпление».
_LOOKALIKES = str.maketrans("aceopxykmthb", "асеорхукмтнв")
_CYRILLIC = re.compile("[а-я]")
_LATIN = re.compile("[a-z]")

# Function words and the words of every complaint, as lemmas: they say nothing of what is
# wrong. Compared with a word and with each of its lemmas.
_STOP_WORDS = """
    а без бы в вам вас ваш ведь весь вместо вокруг вон вот во все всегда всё вы где да даже
    для до его ее если есть еще же за зачем здесь и из или иногда их к как какой кем ко когда
    кого кроме кто куда ли либо лишь между меня мне мной мой мочь мы на над надо наш не него
    нее нельзя нет нету ни никак никакой никогда никто ничего ничто но ну о об обо около он она они
    оно опять от ото очень перед по под после потом потому почему почти при про раз с сам самый
    свой себя со совсем среди так также такой там твой те тем теперь то тоже только тот тут ты
    у уж уже хотя чем через что чтобы чей это этот я
    вообще просто прям реально вроде именно сильно снова постоянно давно недавно сейчас тогда
    сегодня вчера завтра позавчера пока наконец срочно скоро много мало немного несколько
    больше меньше более менее можно нужно нужный должный пора ещё видимо наверное кажется
    один два три четыре пять первый второй третий четвертый пятый каждый любой другой целый
    здравствуйте здравствовать здравствуй привет добрый доброе уважаемый пожалуйста спасибо
    благодарить благодарность заранее извинить извинять просить прошу помочь помогать помощь
    подсказать сообщить сообщать обращаться обратиться обращение жалоба писать написать
    звонить позвонить ответ ответить отвечать вопрос проблема ситуация информация
    администрация глава житель жилец человек народ сосед гражданин семья
    время час минута день неделя месяц год число сутки утро вечер ночь понедельник вторник
    среда четверг пятница суббота воскресенье
    быть являться стать хотеть сделать делать сказать говорить знать ждать дождаться решить
    решать понимать видеть смотреть идти пойти дать давать иметь работать происходить
    дом квартира улица район город поселок село деревня микрорайон проспект переулок адрес
    уважение еле который сколько принять мера отсутствовать проживать
"""
STOP = frozenset(_STOP_WORDS.split())

# Words citizens use for the same outage, each group known by its first word: «не топят»,
# «отопления нет» and «батареи ледяные» are one complaint. These are the outages mass
# incidents are made of; other words are compared as they are.
KIN = {
    "отопление": ("отопление", "отопительный", "топить", "отапливать", "батарея", "радиатор",
                  "теплоснабжение", "тепло", "теплотрасса", "котельная"),
    "электричество": ("электричество", "свет", "электроэнергия", "электроснабжение"),
    "вода": ("вода", "водоснабжение", "водопровод", "водоканал"),
    "газ": ("газ", "газоснабжение"),
}


# Words that make a message about an outage's heating, light or water something else than the
# outage: thanks when it is back, its bill. Such a message keeps its other words.
NOT_OUTAGE = frozenset({
    "спасибо", "благодарить", "благодарность", "благодарный", "перерасчет", "плата",
    "оплата", "оплачивать", "квитанция", "тариф", "начисление", "начислить", "долг",
    "задолженность", "счетчик", "показание",
})


def skeleton(word: str) -> str:
    """A word's consonants, each run of one letter once: «отапление», «отопление» → тплн.

    Citizens' typos are mostly vowels, the unstressed ones spelt as heard («отапление»,
    «сасед», «батарея» with «и» for «е»), and doubled or dropped letters («батареии»,
    «комуналка»): all leave the consonants as they were. A consonant skeleton keeps the key
    of the word whichever of these a citizen made, where character trigrams would share only
    some of theirs and need a threshold of their own. Its cost is a few collisions of
    different words («стол», «стул»); with two or fewer consonants they would be many
    («дом», «дым», «дама»), so a short skeleton is no key: such a word keeps its lemma.
    """
    letters = word.translate(_VOWELS)
    return "".join(letter for letter, _ in itertools.groupby(letters))


@functools.cache
def _kin_of_lemma() -> dict[str, str]:
    return {member: head for head, members in KIN.items() for member in members}


@functools.cache
def _kin_of_skeleton() -> dict[str, str]:
    """The kin of a misspelt word, by its skeleton: «тапят» → «отопление»."""
    return {skeleton(member): head for head, members in KIN.items() for member in members
            if len(skeleton(member)) >= SHORTEST}


@functools.lru_cache(maxsize=50_000)
def match_key(key: str) -> str:
    """What a key is compared by: its group for a kin word, its skeleton, or itself if short."""
    if key in KIN:
        return f"@{key}"  # never a skeleton: «свет» is kin, «совет» (свт) is not
    bones = skeleton(key)
    return bones if len(bones) >= SHORTEST and _CYRILLIC.search(key) else key


@functools.lru_cache(maxsize=50_000)
def word_keys(word: str) -> tuple[str, ...]:
    """The content keys of one word: its lemmas, or the name of its KIN group; () for a
    function word or a generic one.

    A word of several readings keeps each («ямы»: ям, яма), unless one is an outage's:
    «тепла» is тепло, not тёплый, and «свету» is свет, not the name Света. A word the
    dictionary does not know is most often a typo: one lemma the analyser guesses for it is
    kept, and a guess whose skeleton is a kin word's takes that group («тапят» → отопление).
    """
    if _LATIN.search(word) and _CYRILLIC.search(word):
        word = word.translate(_LOOKALIKES)
    if len(word) < SHORTEST or any(ch.isdigit() for ch in word) or word in STOP:
        return ()
    found = lemmas(word)
    if found & STOP:
        return ()
    if _CYRILLIC.search(word) is not None and not _known(word):
        guess = min(found, key=lambda lemma: (len(skeleton(lemma)), lemma))
        return (_kin_of_skeleton().get(skeleton(guess), guess),)
    kin = sorted({_kin_of_lemma()[lemma] for lemma in found if lemma in _kin_of_lemma()})
    if kin:
        return tuple(kin)
    keys: dict[str, str] = {}
    for lemma in sorted(found):
        keys.setdefault(match_key(lemma), lemma)
    return tuple(keys.values())


def _known(word: str) -> bool:
    try:
        return bool(analyzer().word_is_known(word))
    except ValueError:  # a letter without a Unicode name, as lemmas() explains
        return False


# Places. A street, district or settlement is told by the word that says what it is, before
# or after its name, or by «на»/«по» before a name: «ул. Ленина», «на Ленина», «в Заречном
# районе», «мкр Северный», «посёлок Береговой». It is kept as staff would write it.
_STREET, _AVENUE, _LANE, _BOULEVARD, _HIGHWAY, _EMBANKMENT, _SQUARE, _DRIVE = range(8)
_DISTRICT, _MICRO, _SETTLEMENT, _VILLAGE, _HAMLET, _TOWN, _GARDENS, _QUARTER = range(8, 16)
# How each kind of place is written, and the gender its adjectival name takes.
_SHOWN = {
    _STREET: ("ул. {}", "f"), _AVENUE: ("пр-т {}", "m"), _LANE: ("пер. {}", "m"),
    _BOULEVARD: ("б-р {}", "m"), _HIGHWAY: ("{} шоссе", "n"), _EMBANKMENT: ("наб. {}", "f"),
    _SQUARE: ("пл. {}", "f"), _DRIVE: ("{} проезд", "m"), _DISTRICT: ("{} район", "m"),
    _MICRO: ("мкр {}", "m"), _SETTLEMENT: ("пос. {}", "m"), _VILLAGE: ("с. {}", "n"),
    _HAMLET: ("д. {}", "f"), _TOWN: ("г. {}", "m"), _GARDENS: ("СНТ {}", "n"),
    _QUARTER: ("кв-л {}", "m"),
}
_STREETS = frozenset((_STREET, _AVENUE, _LANE, _BOULEVARD, _HIGHWAY, _EMBANKMENT, _SQUARE,
                      _DRIVE))
_ABBREVIATED = {"ул": _STREET, "пр": _AVENUE, "просп": _AVENUE, "пер": _LANE,
                "наб": _EMBANKMENT, "пл": _SQUARE, "мкр": _MICRO, "мкрн": _MICRO,
                "пос": _SETTLEMENT, "пгт": _SETTLEMENT, "дер": _HAMLET, "снт": _GARDENS}
# One letter is a place's kind only with its dot, and before a name: «д. 5» is a house.
_DOTTED = {"п": _SETTLEMENT, "с": _VILLAGE, "д": _HAMLET, "г": _TOWN}
_WRITTEN = {"улица": _STREET, "проспект": _AVENUE, "переулок": _LANE, "бульвар": _BOULEVARD,
            "шоссе": _HIGHWAY, "набережная": _EMBANKMENT, "площадь": _SQUARE, "проезд": _DRIVE,
            "район": _DISTRICT, "микрорайон": _MICRO, "поселок": _SETTLEMENT, "село": _VILLAGE,
            "деревня": _HAMLET, "город": _TOWN, "квартал": _QUARTER}
# Kinds whose name is any word after them; the others need a name written as one.
_ANY_NAME = frozenset((_STREET, _AVENUE, _LANE, _BOULEVARD, _MICRO, _SETTLEMENT))
_HYPHENATED = {"р-н": "район", "р-на": "района", "р-не": "районе", "мкр-н": "мкр",
               "пр-т": "проспект", "б-р": "бульвар", "кв-л": "квартал"}
_HYPHENATED_RE = re.compile(r"(?<![^\W_])(?:р-н[аеу]?|мкр-н|пр-т|б-р|кв-л)(?![^\W_])",
                            re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: house numbers matter here
# The streets most often named by an adjective alone («Советская 12»), in the form written
# on their signs. Any other one is read with its kind («ул. Гаражная 5») or «на» before it.
_ADJECTIVE_STREET_NAMES = """
    советская садовая молодежная центральная школьная лесная новая набережная полевая
    заречная луговая первомайская комсомольская октябрьская пионерская рабочая солнечная
    зеленая песчаная береговая трудовая нагорная северная южная восточная западная
    вокзальная железнодорожная пролетарская партизанская колхозная совхозная речная
    озерная строительная цветочная парковая кооперативная заводская фабричная больничная
    пушкинская красноармейская майская почтовая станционная
"""
_ADJECTIVE_STREETS = frozenset(_ADJECTIVE_STREET_NAMES.split())
_HOUSE_NUMBER = re.compile(r"\d{1,4}[абвгд]?")
# What follows a number that is not a house's: «3 дня», «2 часа», «12 градусов», «5 раз».
_UNITS = ("ден", "дн", "час", "сут", "мин", "недел", "месяц", "год", "лет", "раз", "градус",
          "человек", "семей")
_ADJECTIVE_ENDINGS = ("ая", "яя", "ой", "ей", "ую", "юю", "ый", "ий", "ое", "ее", "ого", "его",
                      "ому", "ему", "ом", "ем", "ым", "им", "ых", "их")
_NAME_TAGS = ("Surn", "Geox")  # surnames (ул. Ленина) and places (д. Ивановка)
_KIND_WORDS = frozenset(pattern.replace("{}", "").strip() for pattern, _ in _SHOWN.values())


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # as written, «ё» as «е»
    low: str
    dotted: bool  # a dot right after it
    title: bool  # «Ленина», not «ленина» or «ЛЕНИНА»


def places_in(text: str) -> frozenset[str]:
    """The places a message names, as staff would write them: «на Садовой» → «ул. Садовая»,
    «в Заречном районе» → «Заречный район»; a house number alone («д. 5») is none."""
    return _named(text)[0]


def _named(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The places a text names, and the words of their names and kinds, lowercased."""
    tokens = _tokens(text)
    found: list[str] = []
    consumed: set[str] = set()
    for index in range(len(tokens)):
        got = _place_at(tokens, index)
        if got is not None:
            place, words = got
            if place not in found and len(found) < MAX_PLACES:
                found.append(place)
            consumed.update(words)
    return frozenset(found), frozenset(consumed)


def _tokens(text: str) -> list[_Token]:
    text = unicodedata.normalize("NFC", text[:MAX_CHARS]).replace("ё", "е").replace("Ё", "Е")
    text = _HYPHENATED_RE.sub(lambda m: _HYPHENATED[m.group().lower()], text)
    return [_Token(m.group(), m.group().lower(), text[m.end():m.end() + 1] == ".",
                   m.group()[:1].isupper() and m.group()[1:].islower())
            for m in _TOKEN.finditer(text)][:MAX_WORDS]


def _place_at(tokens: list[_Token], index: int) -> tuple[str, set[str]] | None:
    """The place whose kind, or whose «на»/«по», is the token at `index`, and its words."""
    token = tokens[index]
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    before = tokens[index - 1] if index > 0 else None
    if token.low in ("на", "по"):
        if after is None or not _bare_name(after, tokens[index + 2:index + 4]):
            return None
        return _shown(_STREET, after), {after.low}
    kind = _kind_of(token)
    if kind is None:
        if _name_like(token.low) and _house(tokens[index + 1:index + 3]) \
                or _street_alone(token, before, after) \
                or _adjective_street(token, tokens[index + 1:index + 3]):
            return _shown(_STREET, token), {token.low}  # «Ленина 5», «ЛЕНИНА!», «Садовая 3»
        return None
    if after is not None and kind != _DISTRICT and _name_after(kind, token, after):
        return _shown(kind, after), {token.low, after.low}
    if after is not None and after.low.isdigit() and kind in _STREETS:
        third = tokens[index + 2] if index + 2 < len(tokens) else None
        if third is not None and third.title:  # «ул. 8 Марта»
            return _shown(kind, third, f"{after.text} "), {token.low, third.low}
    if before is not None and len(token.low) > 3 and _adjectival(before.low) \
            and before.low not in STOP and _kind_of(before) is None:
        return _shown(kind, before), {token.low, before.low}  # «в Заречном районе»
    if after is not None and kind == _DISTRICT and after.title and _kind_of(after) is None:
        return _shown(kind, after), {token.low, after.low}
    return None


def _street_alone(token: _Token, before: _Token | None, after: _Token | None) -> bool:
    """Whether a word alone is a street: a surname in the genitive, «..., Ленина», «ЛЕНИНА!»,
    not a citizen's own name beside a first name or an initial («Иванова М.», «Мария
    Иванова»)."""
    if not (token.title or token.text.isupper()) or not _genitive_surname(token.low):
        return False
    return not any(other is not None and (other.title or len(other.low) == 1)
                   for other in (before, after))


@functools.lru_cache(maxsize=10_000)
def _genitive_surname(word: str) -> bool:
    if not _CYRILLIC.search(word):
        return False
    try:
        return any("Surn" in parse[1] and "gent" in parse[1] for parse in analyzer().parse(word))
    except ValueError:  # a letter without a Unicode name, as lemmas() explains
        return False


def _adjective_street(name: _Token, rest: list[_Token]) -> bool:
    """«Советская 12», «Садовая д. 3»: one of the usual streets named by an adjective,
    before a house number; not «Скорая 103», «Холодная 3 дня» or «Городская 2 больница»."""
    if not (name.title and name.low in _ADJECTIVE_STREETS and _house(rest)):
        return False
    after = 1 if rest[0].low[:1].isdigit() else 2  # the number, then the word after it
    if not _HOUSE_NUMBER.fullmatch(rest[after - 1].low):
        return False
    unit = rest[after].low if after < len(rest) else ""
    return not unit.startswith(_UNITS)


def _house(tokens: list[_Token]) -> bool:
    """Whether the words begin with a house number: «5», «5а», «д 5», «дом 5»."""
    if tokens and tokens[0].low in ("д", "дом"):
        tokens = tokens[1:]
    return bool(tokens) and tokens[0].low[:1].isdigit()


def _kind_of(token: _Token) -> int | None:
    if token.low in _ABBREVIATED:
        return _ABBREVIATED[token.low]
    if token.low in _DOTTED:
        return _DOTTED[token.low] if token.dotted else None
    if len(token.low) < 4:
        return None
    return next((_WRITTEN[lemma] for lemma in sorted(lemmas(token.low)) if lemma in _WRITTEN),
                None)


def _name_after(kind: int, marker: _Token, name: _Token) -> bool:
    """Whether the word after a kind of place is its name: «ул. Ленина», not «д. 5»."""
    if name.low.isdigit() or name.low in STOP or _kind_of(name) is not None:
        return False
    if name.title or _name_like(name.low):
        return True
    return kind in _ANY_NAME and (marker.low in _ABBREVIATED or len(marker.low) > 3)


def _bare_name(name: _Token, rest: list[_Token]) -> bool:
    """Whether the word after «на» or «по» is a street: «на Ленина», «на ленина 5»."""
    if name.low.isdigit() or name.low in STOP or len(name.low) < SHORTEST:
        return False
    if _kind_of(name) is not None or word_keys(name.low) and _is_kin(name.low):
        return False  # «на улице» is the marker's; «по отоплению» is what, not where
    if _name_like(name.low) or _house(rest):
        return True
    return name.title and _may_be_name(name.low)


@functools.lru_cache(maxsize=10_000)
def _may_be_name(word: str) -> bool:
    """Whether a capitalised word may name a street: a noun or adjective, or a word the
    dictionary does not know; not «Помогите» or «Срочно»."""
    if not _CYRILLIC.search(word) or not _known(word):
        return True
    try:
        return any({"NOUN", "ADJF"} & set(str(parse[1]).replace(" ", ",").split(","))
                   for parse in analyzer().parse(word))
    except ValueError:  # a letter without a Unicode name, as lemmas() explains
        return False


def _is_kin(word: str) -> bool:
    return any(key in KIN for key in word_keys(word))


@functools.lru_cache(maxsize=10_000)
def _name_like(word: str) -> bool:
    """A surname or a place name in the dictionary: «ленина», «ивановке»; not «мира»."""
    if not _CYRILLIC.search(word):
        return False
    try:
        return any(any(tag in parse[1] for tag in _NAME_TAGS) for parse in analyzer().parse(word))
    except ValueError:  # a letter without a Unicode name, as lemmas() explains
        return False


def _adjectival(word: str) -> bool:
    return len(word) > 4 and word.endswith(_ADJECTIVE_ENDINGS) and _adjective_lemma(word) != ""


def _adjective_lemma(word: str) -> str:
    """The masculine dictionary form of an adjective: «заречном» → «заречный»; "" if none."""
    found = sorted(lemma for lemma in lemmas(word) if lemma.endswith(("ый", "ий", "ой")))
    return found[0] if found else ""


def _shown(kind: int, name: _Token, prefix: str = "") -> str:
    """A place as staff would write it: its kind's short form and its name in the form the
    kind takes (a street's name as written, «ул. Ленина»; an adjective in the kind's gender)."""
    pattern, gender = _SHOWN[kind]
    word = name.low
    if _adjectival(word) and not (kind in _STREETS and word.endswith(("ого", "его"))):
        word = _agreed(_adjective_lemma(word), gender)
    elif kind not in _STREETS:
        found = lemmas(word)
        word = word if word in found else min(found, key=lambda f: (len(f), f))
    return pattern.format(prefix + word[:1].upper() + word[1:])


def _agreed(masculine: str, gender: str) -> str:
    """«садовый» → «садовая» (f), «садовое» (n); «верхний» → «верхняя», «русский» → «русская»."""
    if gender == "m":
        return masculine
    stem, hard = masculine[:-2], masculine[-2:] != "ий" or masculine[-3:-2] in "гкхжшчщ"
    if gender == "f":
        return stem + ("ая" if hard else "яя")
    return stem + ("ое" if hard and masculine[-3:-2] not in "жшчщ" else "ее")


@functools.lru_cache(maxsize=10_000)
def place_key(place: str) -> str:
    """What a place is compared by: its name's skeleton, its kind left out, so that
    «ул. Ленина» meets «на Ленина» and «Ленена» with a typo; «Заречный район», «ул. Заречная»."""
    name = " ".join(part for part in place.lower().split() if part not in _KIND_WORDS)
    bones = " ".join(skeleton(part) for part in name.split())
    return bones if bones.strip() else name


@dataclass(frozen=True, slots=True)
class Report:
    """What the index keeps of one ticket's first message."""

    ticket_id: int
    opened_at: datetime  # aware UTC
    category: str | None
    keys: frozenset[str]  # the content keys the likeness is judged on
    places: frozenset[str]  # normalised place names named in the text


def report_of(ticket_id: int, opened_at: datetime, category: str | None, text: str) -> Report:
    """A ticket's first message as the likeness sees it: its content keys and places.

    The words of a place and its name are not content keys: «Ленина» says where, not what.
    """
    places, consumed = _named(text)
    keys: dict[str, str] = {}
    not_outage = False
    for word in words_of(text):
        not_outage = not_outage or not NOT_OUTAGE.isdisjoint(lemmas(word))
        if word in consumed:
            continue
        for key in word_keys(word):
            keys.setdefault(match_key(key), key)
        if len(keys) >= MAX_KEYS:
            break
    if not_outage:  # thanks for the heating, or a bill for it: not the outage itself
        keys = {bones: key for bones, key in keys.items() if not bones.startswith("@")}
    return Report(ticket_id, opened_at, category, frozenset(keys.values()), places)


@dataclass(frozen=True, slots=True)
class _Seen:
    """A report in the index, with what it is compared by."""

    report: Report
    keys: frozenset[str]
    places: frozenset[str]
    kin: frozenset[str]  # the keys of the outages it names
    weight: int

    @classmethod
    def of(cls, report: Report) -> _Seen:
        keys = frozenset(match_key(k) for k in report.keys)
        kin = frozenset(k for k in keys if k.startswith("@"))
        return cls(report, keys, frozenset(place_key(p) for p in report.places), kin,
                   len(keys) + (OUTAGE - 1) * len(kin))

    def indexed(self) -> Iterator[str]:
        """What the index finds it by: its keys, and its places («#лнн»), so that of many
        candidates those of the same place come first."""
        yield from self.keys
        yield from (f"#{place}" for place in self.places)


PLACE = 2  # what a named place both share weighs beside a shared key


def _shared(a: _Seen, b: _Seen) -> int:
    """The weight of the keys two reports share if they are alike, else 0."""
    first, second = a.report.category, b.report.category
    if first is not None and second is not None and first != second:
        return 0
    if a.places and b.places and a.places.isdisjoint(b.places):
        return 0
    common = a.keys & b.keys
    if a.kin and b.kin and not (a.kin & common):
        return 0  # two outages, and not the same: «нет света», «не топят»
    shared = len(common) + (OUTAGE - 1) * len(a.kin & common)
    if common and a.places & b.places:
        shared += PLACE  # the same complaint about the same named place
    more = max(a.weight, b.weight)
    return shared if shared and (2 * shared >= more or shared >= ENOUGH) else 0


def alike(a: Report, b: Report) -> bool:
    """Whether two tickets look like the same problem: departments that do not differ, the
    same place if both name one, the same outage if both name one (a KIN group), and at least
    half the weight of the keys of the one with more (or ENOUGH), a named place both share
    counting as PLACE: a short «не топят» is not alike with every long letter that mentions
    heating. A report without keys is alike with none."""
    return _shared(_Seen.of(a), _Seen.of(b)) > 0


def summary(reports: Sequence[Report]) -> tuple[str, str | None]:
    """The words most of them share (a short topic, e.g. "отопление, батарея") and the place
    most of them name (e.g. "ул. Ленина") or None — for the staff's incident card
    «Похоже на массовое: 12 сообщений — отопление, ул. Ленина»."""
    topic = _commonest([r.keys for r in reports], match_key, len(reports), 3)
    places = _commonest([r.places for r in reports], place_key, 0, 1)
    return ", ".join(topic), (places[0] if places else None)


def _commonest(sets: list[frozenset[str]], compared: Callable[[str], str], most: int,
               at_most: int) -> list[str]:
    """Up to `at_most` values named in at least half of `most` sets (the commonest at least,
    if any), each as most of them write it."""
    counts: Counter[str] = Counter()
    written: dict[str, Counter[str]] = {}
    for values in sets:
        for value in values:
            counts[compared(value)] += 1
            written.setdefault(compared(value), Counter())[value] += 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    chosen = [k for k in ranked[:at_most] if 2 * counts[k] >= most] or ranked[:1]
    return [written[k].most_common(1)[0][0] for k in chosen]


class RecentReports:
    """The tickets of the last `window`, at most `limit` of them, indexed by content key.

    A new ticket is compared with at most CANDIDATES of them: those sharing most keys and
    places among the PER_KEY newest tickets of each of its MAX_KEYS keys and MAX_PLACES
    places, so its work is bounded by 16,000 index entries read and 200 comparisons however
    full the window, and at most CANDIDATES ids are returned: an incident of more is one all
    the same. Memory is bounded by `limit`: the oldest report is forgotten first.
    """

    def __init__(self, window: timedelta = timedelta(hours=3), limit: int = 50_000) -> None:
        self.window = window
        self.limit = limit
        self._seen: dict[int, _Seen] = {}  # ticket id → report, in the order added
        self._postings: dict[str, dict[int, None]] = {}  # key → ticket ids, in the order added

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, report: Report) -> None:
        """Remember a ticket's report (again: its new one replaces the old)."""
        self.forget(report.ticket_id)
        self._expire(report.opened_at)
        while len(self._seen) >= max(self.limit, 1):
            self.forget(next(iter(self._seen)))
        seen = _Seen.of(report)
        self._seen[report.ticket_id] = seen
        for key in seen.indexed():
            self._postings.setdefault(key, {})[report.ticket_id] = None

    def forget(self, ticket_id: int) -> None:
        """Drop a ticket from the index: closed, or judged unlike by staff."""
        seen = self._seen.pop(ticket_id, None)
        if seen is None:
            return
        for key in seen.indexed():
            posting = self._postings[key]
            del posting[ticket_id]
            if not posting:
                del self._postings[key]

    def similar(self, report: Report, now: datetime) -> list[int]:
        """Ticket ids of the reports in the window alike with `report` (not itself), most alike
        first (naming its place, then sharing most, then newest); bounded work."""
        self._expire(now)
        new = _Seen.of(report)
        since = now - self.window
        found = []
        for ticket_id in self._candidates(new):
            seen = self._seen[ticket_id]
            if seen.report.opened_at >= since and (shared := _shared(new, seen)):
                there = not new.places.isdisjoint(seen.places)  # one place named by both
                found.append((-there, -shared, -seen.report.opened_at.timestamp(), ticket_id))
        return [ticket_id for *_, ticket_id in sorted(found)]

    def _candidates(self, new: _Seen) -> Iterator[int]:
        """The CANDIDATES reports sharing most keys and places with `new`, among the PER_KEY
        newest of each."""
        counts: Counter[int] = Counter()
        for key in new.indexed():
            posting = self._postings.get(key)
            if posting:
                counts.update(itertools.islice(reversed(posting), PER_KEY))
        counts.pop(new.report.ticket_id, None)
        best = heapq.nlargest(CANDIDATES, counts.items(), key=lambda item: item[1])
        return (ticket_id for ticket_id, _ in best)

    def _expire(self, now: datetime) -> None:
        """Forget the reports older than the window, oldest first; one added late, out of
        order, waits for those before it (and is never found, being out of the window)."""
        since = now - self.window
        while self._seen:
            ticket_id, oldest = next(iter(self._seen.items()))
            if oldest.report.opened_at >= since:
                return
            self.forget(ticket_id)
