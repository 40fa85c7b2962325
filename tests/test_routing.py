"""Routing on Russian lemmas by the operator's rules file, and the file's mistakes in one line."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.routing import (
    MAX_WORDS,
    Department,
    Rules,
    RulesError,
    lemmas,
    load_rules,
    parse_rules,
    words_of,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "departments.example.toml"


@functools.cache
def example() -> Rules:
    """The example file, read once: the property test calls for it a hundred times."""
    return load_rules(EXAMPLE)


@pytest.fixture
def rules() -> Rules:
    return example()


def key_of(department: Department | None) -> str | None:
    return department.key if department is not None else None


def two(first: str, second: str) -> Rules:
    """Rules of two departments, "a" then "b", with one word or phrase each."""
    return parse_rules(f'[[department]]\nkey = "a"\nname = "A"\nwords = ["{first}"]\n'
                       f'[[department]]\nkey = "b"\nname = "B"\nwords = ["{second}"]\n', "r")


@pytest.mark.parametrize(("text", "key"), [
    ("отопления нет третий день", "housing"),
    ("Не топят с понедельника!", "housing"),
    ("батареи в квартире холодные", "housing"),
    ("Когда дадут горячую воду?", "housing"),
    ("Течет крыша, управляющая компания не отвечает", "housing"),
    ("Во дворе не горит фонарь", "housing"),  # «двор» and «фонарь» tie: ЖКХ is first
    ("огромная яма на дороге", "roads"),
    ("ямы на дорогах", "roads"),
    ("огромная яма на дороге у школы", "roads"),  # «яма» and «дорога» outweigh «школа»
    ("автобус 12 не ходит", "roads"),
    ("гололёд на тротуаре, бабушка упала", "roads"),
    ("не могу записаться к врачу в поликлинику", "health"),
    ("Вызвали скорую, ехала два часа", "health"),
    ("нет лекарств в аптеке", "health"),
    ("очередь в детский сад", "education"),
    ("школьный автобус не пришёл", "education"),  # «школьный», «школьный автобус» beat «автобус»
    ("пенсию не перечислили", "social"),
    ("у мамы инвалидность, нужна путевка в санаторий", "social"),
    ("спасибо", None),
    ("Скорее бы починили", None),  # «скорее» is a form of «скорый», but only «скорая помощь» is
    ("Дорогие жители, спасибо", None),  # «дорогие» is a form of «дорогой», not of «дорога»
    ("", None),
])
def test_inflected_words_route_to_their_department(
    rules: Rules, text: str, key: str | None
) -> None:
    assert key_of(rules.route(text)) == key


def test_the_example_file_names_five_departments_and_their_places(rules: Rules) -> None:
    places = {d.key: (d.name, d.chat_id, d.topic) for d in rules.departments}
    assert places == {
        "housing": ("ЖКХ", None, 2), "roads": ("Дороги и транспорт", None, 3),
        "health": ("Здравоохранение", "-1001000000002", None),
        "education": ("Образование", "-1001000000003", None),
        "social": ("Социальная поддержка", None, None),
    }
    assert [d.key for d in rules.departments] == ["housing", "roads", "health", "education",
                                                 "social"]
    assert all(15 <= len(d.words) <= 30 for d in rules.departments)
    assert rules.department("roads") is rules.departments[1]
    assert rules.department("nope") is None and rules.department(None) is None


def test_a_word_has_the_normal_forms_of_all_its_readings() -> None:
    assert lemmas("ямы") == {"ям", "яма"}
    assert lemmas("Течёт") == lemmas("течет") == {"течь"}  # lowercased, «ё» as «е»
    assert words_of("Ёлка, 12 ёлок и 2024 г.") == ["елка", "елок", "и", "г"]
    assert words_of("батаре\u0438\u0306") == ["батарей"]  # «й» typed as «и» and a breve


def test_a_phrase_needs_its_words_within_four_words_in_any_order() -> None:
    rules = two("батареи холодные", "лифт")
    assert key_of(rules.route("у нас батареи совсем холодные")) == "a"
    assert key_of(rules.route("холодные батареи")) == "a"
    assert key_of(rules.route("батареи у нас холодные")) == "a"  # four words: in
    assert rules.route("батареи у нас очень холодные") is None  # five: out
    assert rules.route("батареи поменяли, а теперь в подъезде холодные стены") is None
    assert rules.route("батареи") is None


def test_a_phrase_sharing_its_common_word_with_others_needs_all_its_words() -> None:
    rules = parse_rules('[[department]]\nkey = "a"\nname = "A"\n'
                        'words = ["не топят", "не вывозят", "не горит"]\n'
                        '[[department]]\nkey = "b"\nname = "B"\nwords = ["фонарь не горит"]\n',
                        "r")
    assert rules.route("у нас не убирают") is None
    assert rules.route("топят хорошо") is None
    assert key_of(rules.route("топят плохо, а точнее не топят")) == "a"
    assert key_of(rules.route("фонарь не горит")) == "a"  # «не горит» ties «фонарь не горит»
    assert rules.route("фонарь горит, а вот лифт у нас не работает") is None


def test_the_department_meeting_most_rules_wins_and_a_tie_goes_to_the_first() -> None:
    tie = two("вода", "вода")
    assert key_of(tie.route("нет воды")) == "a"
    rules = parse_rules('[[department]]\nkey = "a"\nname = "A"\nwords = ["вода"]\n'
                        '[[department]]\nkey = "b"\nname = "B"\nwords = ["вода", "подвал"]\n',
                        "r")
    assert key_of(rules.route("вода в подвале")) == "b"
    assert key_of(rules.route("вода, вода, вода")) == "a"  # a rule counts once


def test_a_rule_in_its_dictionary_form_means_that_word_only() -> None:
    rules = two("дорога", "дороги")  # «дороги» is also a form of «дорогой»
    assert key_of(rules.route("дорогие жители")) == "b"
    assert key_of(rules.route("разбитая дорога")) == "a"


@given(st.text())
def test_routing_any_text_never_raises(text: str) -> None:
    rules = example()
    department = rules.route(text)
    assert department is None or department in rules.departments


@pytest.mark.parametrize("text", [
    "\x00\x00", "🙂🙂🙂 яма 🙂", "حفرة في الطريق", "\ud800яма", "𗈅", "𗈅яма", "a" * 1000,
    "батаре\u0438\u0306 холодные",  # «й» as «и» and a combining breve
])
def test_odd_unicode_is_routed_without_error(rules: Rules, text: str) -> None:
    department = rules.route(text)
    assert department is None or department in rules.departments


def test_a_letter_without_a_unicode_name_is_its_own_lemma() -> None:
    # pymorphy3 itself raises ValueError on such a letter of an unknown word.
    assert lemmas("𗈅яма") == {"𗈅яма"}


def test_a_huge_message_is_judged_by_its_first_words(rules: Rules) -> None:
    assert len(words_of("слово " * 50_000)) == MAX_WORDS
    department = rules.route("яма " * 50_000 + "отопление не топят батареи холодные")
    assert key_of(department) == "roads"  # the tail is not read
    assert key_of(rules.route("отопление " + "🙂" * 100_000)) == "housing"


def test_the_morphology_is_not_loaded_on_import() -> None:
    code = "import sys, handlers.routing; print('pymorphy3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "False"


def test_words_are_remembered_in_a_bounded_cache(rules: Rules) -> None:
    assert lemmas.cache_info().maxsize == 50_000
    rules.route("протечка в подвале")
    hits = lemmas.cache_info().hits
    rules.route("протечка в подвале")
    assert lemmas.cache_info().hits == hits + 3


def test_a_chat_written_as_a_number_is_kept_as_text() -> None:
    rules = parse_rules('[[department]]\nkey = "a"\nname = " A "\nchat = -100123\n'
                        'words = ["яма"]\n', "r")
    assert rules.departments == (Department("a", "A", "-100123", None, ("яма",)),)


HEAD = '[[department]]\nkey = "roads"\nname = "Дороги"\nwords = ["яма"]\n'  # lines 1-4


@pytest.mark.parametrize(("text", "line", "problem"), [
    ('[[department]]\nkey = "roads"\nname = Дороги\nwords = ["яма"]\n', 3,
     "not valid TOML: Invalid value (column 8)"),
    ('[[department]]\nkey = "roads"\nname = "Дороги"\nwords = ["яма"\n', 4,
     "not valid TOML: Unclosed array (at the end)"),
    (HEAD + '[[department]]\nkey = "roads"\nname = "Ещё"\nwords = ["дорога"]\n', 6,
     'department "roads": the key is used twice, by departments 1 and 2'),
    (HEAD + '[[department]]\nkey = "health"\nname = "З"\ntopic = 0\nwords = ["врач"]\n', 8,
     'department "health": "topic" must be a positive whole number'),
    ('[[department]]\nkey = "roads"\nname = "Дороги"\ntopic = "три"\nwords = ["яма"]\n', 4,
     'department "roads": "topic" must be a positive whole number'),
    (HEAD + '[[department]]\nkey = "health"\nname = "З"\nchat = "-1"\ntopic = 2\n'
     'words = ["врач"]\n', 9, 'department "health": both "chat" and "topic"'),
    (HEAD + '[[department]]\nkey = "health"\nname = "З"\nchat = "@clinic"\nwords = ["врач"]\n',
     8, 'department "health": "chat" must be a group id'),
    (HEAD + '[[department]]\nkey = "health"\nname = "З"\nwrods = ["врач"]\n', 8,
     "department \"health\": unknown field 'wrods'"),
    (HEAD + '\n[[department]]\nkey = "health"\nname = "З"\n', 6,
     'department "health": "words" is missing'),
    (HEAD + '[[department]]\nkey = "health"\nname = "З"\nwords = []\n', 8,
     'department "health": "words" must be a non-empty list'),
    ('[[department]]\nkey = "roads"\nname = "Д"\nwords = [\n  "яма",\n  "",\n]\n', 6,
     'department "roads": words[1] must be a non-empty string'),
    ('[[department]]\nkey = "roads"\nname = "Д"\nwords = [\n  "яма",\n  "автобус 12",\n]\n', 6,
     "department \"roads\": words[1] 'автобус 12': only words of letters are matched"),
    ('[[department]]\nkey = "roads"\nname = "Д"\nwords = ["большая яма на нашей дороге"]\n', 4,
     "department \"roads\": words[0] 'большая яма на нашей дороге': a phrase of more than 4 "
     "words never matches"),
    ('[[department]]\nkey = "roads"\nname = "Д"\nwords = ["яма", "Яма"]\n', 4,
     "department \"roads\": words[1] 'Яма' repeats words[0]"),
    ('[[department]]\nkey = "Дороги"\nname = "Дороги"\nwords = ["яма"]\n', 2,
     "department 1: \"key\" must be 1 to 32 of a-z, 0-9, \"_\" and \"-\", not 'Дороги'"),
    ('# roads\n\n[[department]]\nname = "Дороги"\nwords = ["яма"]\n', 3,
     'department 1: "key" is missing'),
    ('[[department]]\nkey = "roads"\nname = 7\nwords = ["яма"]\n', 3,
     'department "roads": "name" must be a non-empty string'),
    ('staff_chat = "-100"\n' + HEAD, 1, "unknown setting 'staff_chat'"),
    ('[department]\nkey = "roads"\n', 1, "departments are written as [[department]] tables"),
])
def test_a_mistake_is_one_line_naming_the_file_and_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = tmp_path / "departments.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, line {line}: {problem}"), message
    assert raised.value.line == line


def test_a_file_missing_unreadable_or_empty_is_named_without_a_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(RulesError) as raised:
        load_rules(missing)
    assert str(raised.value) == f"{missing}: cannot be read: No such file or directory"
    with pytest.raises(RulesError) as raised:
        load_rules(tmp_path)
    assert str(raised.value) == f"{tmp_path}: cannot be read: Is a directory"
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(RulesError) as raised:
        load_rules(empty)
    assert str(raised.value) == f"{empty}: no [[department]] tables"


def test_a_file_not_in_utf8_is_named_with_the_line_of_the_first_bad_byte(
    tmp_path: Path
) -> None:
    legacy = tmp_path / "cp1251.toml"
    legacy.write_bytes(HEAD.encode("cp1251"))
    with pytest.raises(RulesError) as raised:
        load_rules(legacy)
    assert str(raised.value).startswith(f"{legacy}, line 3: not UTF-8 text (byte 0xc4)")
    assert "\n" not in str(raised.value)


def test_a_byte_order_mark_from_an_editor_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "departments.toml"
    path.write_bytes(HEAD.encode("utf-8-sig"))
    assert [d.key for d in load_rules(path).departments] == ["roads"]


def test_the_readme_example_of_the_four_usual_departments_routes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```toml\n[[department]]") + len("```toml\n")
    rules = parse_rules(readme[start:readme.index("```", start)], "README.md")
    assert [d.key for d in rules.departments] == ["housing", "roads", "health", "education"]
    assert key_of(rules.route("Третий день не топят, в квартире холодно")) == "housing"
    assert key_of(rules.route("Ямы на дороге к остановке")) == "roads"
    assert key_of(rules.route("Не могу записаться к врачу")) == "health"
    assert key_of(rules.route("Когда подойдёт наша очередь в садик?")) == "education"
    assert rules.route("Спасибо за праздник") is None
