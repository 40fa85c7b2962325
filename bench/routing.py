"""Benchmark of routing: 20 departments of 50 words each, a few thousand citizens' messages.

A region's rules file at its largest: the five departments of docs/departments.example.toml
and fifteen more, each filled to 50 words and phrases. The messages are 20 to 60 words of
what citizens write: function words, common words and the departments' words in inflected
forms, streets and house numbers, a typo now and then. They are routed twice: cold, with the
lemma cache emptied, so every new word form pays its dictionary look-up; then warm, every
form remembered. The morphology is loaded before the timing and reported apart.

    python -m bench.routing            # 3,000 messages
    python -m bench.routing 500
"""

from __future__ import annotations

import random
import statistics
import sys
import time as clock
import tomllib
from pathlib import Path
from typing import Any

from handlers.routing import Rules, analyzer, lemmas, parse_rules

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "departments.example.toml"
DEPARTMENTS = 20
WORDS_EACH = 50
SEED = 20261124

# Fifteen more departments of a regional administration, in their citizens' words.
THEMES: dict[str, list[str]] = {
    "culture": ["библиотека", "музей", "театр", "концерт", "дом культуры", "клуб", "праздник",
                "фестиваль", "выставка", "памятник", "ансамбль", "хор", "кинотеатр"],
    "sport": ["стадион", "спортзал", "бассейн", "тренер", "соревнования", "футбол", "хоккей",
              "каток", "спортплощадка", "турник", "лыжня", "тренажёр", "спорткомплекс"],
    "ecology": ["свалка", "вырубка", "загрязнение", "выброс", "дым", "запах", "река",
                "экология", "отходы", "сточные воды", "пыль", "завод", "мусоросжигательный"],
    "improvement": ["благоустройство", "сквер", "парк", "скамейка", "клумба", "газон",
                    "дерево", "покос травы", "урна", "ограждение", "озеленение", "аллея"],
    "land": ["земельный участок", "межевание", "кадастр", "аренда земли", "самозахват",
             "забор", "участок", "земля", "границы участка", "садоводство", "огород"],
    "building": ["стройка", "строительство", "разрешение на строительство", "застройщик",
                 "дольщик", "новостройка", "котлован", "кран", "самострой", "архитектура"],
    "animals": ["собака", "бездомные собаки", "стая", "кошка", "отлов", "приют", "укус",
                "ветеринар", "бешенство", "скот", "корова", "животное"],
    "safety": ["пожар", "наводнение", "паводок", "эвакуация", "сирена", "учения", "убежище",
               "спасатели", "подтопление", "ураган", "пожарный гидрант"],
    "trade": ["магазин", "рынок", "ларёк", "продавец", "цены", "просрочка", "торговля",
              "киоск", "ярмарка", "продукты", "чек", "кафе"],
    "labour": ["работа", "зарплата", "увольнение", "работодатель", "вакансия", "биржа труда",
               "безработица", "трудоустройство", "задержка зарплаты", "центр занятости"],
    "youth": ["молодёжь", "волонтёр", "подросток", "молодёжный центр", "форум", "студент",
              "общежитие", "стипендия", "практика", "грант"],
    "telecom": ["интернет", "связь", "вышка", "оператор", "мобильная связь", "телевидение",
                "сигнал", "провайдер", "оптоволокно", "почта", "почтальон", "посылка"],
    "farming": ["фермер", "урожай", "посевы", "трактор", "комбайн", "сельхозтехника",
                "пастбище", "удобрения", "теплица", "пчёлы", "зерно"],
    "records": ["паспорт", "прописка", "регистрация", "справка", "загс", "свидетельство",
                "выписка", "архив", "нотариус", "доверенность", "многофункциональный центр"],
    "reception": ["глава", "депутат", "приём граждан", "обращение", "жалоба", "заявление",
                  "чиновник", "администрация", "мэр", "губернатор", "совет депутатов"],
}

# Words every department's phrases are built of, and citizens' messages are full of.
NOUNS = ["дом", "улица", "квартира", "район", "город", "село", "деревня", "посёлок", "год",
         "месяц", "неделя", "день", "утро", "вечер", "ночь", "время", "человек", "житель",
         "сосед", "ребёнок", "мама", "бабушка", "дедушка", "семья", "муж", "жена", "сын",
         "дочь", "деньги", "рубль", "документ", "телефон", "номер", "адрес", "сайт", "письмо",
         "звонок", "срок", "решение", "помощь", "случай", "место", "сторона", "окно", "дверь",
         "стена", "потолок", "угол", "центр", "подвал", "этаж", "кабинет", "специалист",
         "сотрудник", "начальник", "прокуратура", "полиция", "машина", "трава", "площадь",
         "берег", "поле", "лес", "здание", "договор", "оплата", "счёт", "ответ", "проблема",
         "вопрос", "ремонт", "состояние", "результат", "порядок", "закон", "право", "здоровье",
         "жизнь", "ситуация", "условие", "работник", "пенсионер", "ветеран", "инвалид"]
ADJECTIVES = ["новый", "старый", "большой", "маленький", "плохой", "опасный", "постоянный",
              "городской", "районный", "местный", "муниципальный", "жилой", "многоквартирный",
              "частный", "ответственный", "срочный", "последний", "целый", "нормальный",
              "ужасный", "огромный", "страшный", "разбитый", "сломанный", "грязный", "тёмный"]
VERBS = ["писать", "звонить", "ждать", "просить", "обращаться", "отвечать", "сделать",
         "решить", "помочь", "приехать", "прийти", "работать", "жить", "знать", "сказать",
         "обещать", "починить", "убрать", "проверить", "разобраться", "принять", "получить",
         "платить", "стоять", "ходить", "видеть", "понимать", "требовать", "устранить",
         "отремонтировать", "заменить", "установить", "вывезти", "гореть", "приходить"]
FUNCTION = ["и", "в", "на", "не", "что", "у", "нас", "уже", "давно", "когда", "почему",
            "пожалуйста", "как", "это", "а", "но", "с", "по", "к", "за", "из", "от", "до", "для",
            "о", "при", "так", "еще", "очень", "совсем", "всё", "нет", "да", "бы", "же", "ли",
            "только", "тоже", "просто", "вообще", "никто", "ничего", "никак", "сколько", "можно",
            "нужно", "надо", "мы", "я", "они", "он", "она", "вы", "нам", "мне", "им", "их", "его",
            "там", "тут", "здесь", "где", "куда", "потом", "сейчас", "сегодня", "вчера", "опять",
            "снова"]
OPENERS = ["Здравствуйте", "Добрый день", "Уважаемая администрация", "Помогите пожалуйста",
           "Обращаюсь к вам", "Доброе утро", ""]
STREETS = ["Ленина", "Мира", "Советская", "Гагарина", "Пушкина", "Садовая", "Молодёжная",
           "Центральная", "Лесная", "Победы", "Набережная", "Заречная", "Кирова", "Чехова"]


def forms_of(words: list[str]) -> dict[str, list[str]]:
    """Each word's inflected forms (a word of a phrase keeps its written form)."""
    import pymorphy3  # noqa: PLC0415 - a second analyser, with lexemes, to write messages

    writer = pymorphy3.MorphAnalyzer(lang="ru")
    found: dict[str, list[str]] = {}
    for word in words:
        if " " in word:
            continue
        lexeme = writer.parse(word)[0].lexeme
        found[word] = sorted({form.word for form in lexeme})[:24] or [word]
    return found


def departments(rng: random.Random) -> list[tuple[str, list[str]]]:
    """Twenty departments of 50 distinct words and phrases: the example's five, fifteen more,
    each filled up with phrases of its own words («сломанный лифт», «светофор не работает»)."""
    with EXAMPLE.open("rb") as file:
        example = [(d["key"], list(d["words"])) for d in tomllib.load(file)["department"]]
    chosen = [*example, *THEMES.items()][:DEPARTMENTS]
    built = []
    for key, given in chosen:
        words = list(given)
        own = [w for w in given if " " not in w]
        seen = {w.lower().replace("ё", "е") for w in words}
        while len(words) < WORDS_EACH:
            word = rng.choice(own)
            phrase = rng.choice([f"{rng.choice(ADJECTIVES)} {word}", f"{word} не работает",
                                 f"{word} {rng.choice(NOUNS)}"])
            if phrase.lower().replace("ё", "е") not in seen:
                seen.add(phrase.lower().replace("ё", "е"))
                words.append(phrase)
        built.append((key, words))
    return built


def rules_text(built: list[tuple[str, list[str]]]) -> str:
    """The rules file of the departments, as an operator would write it."""
    tables = []
    for index, (key, words) in enumerate(built):
        listed = ", ".join(f'"{w}"' for w in words)
        tables.append(f'[[department]]\nkey = "{key}"\nname = "{key.title()}"\n'
                      f"topic = {index + 2}\nwords = [{listed}]\n")
    return "\n".join(tables)


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    at = rng.randrange(len(word) - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2:]


def messages(count: int, built: list[tuple[str, list[str]]], rng: random.Random) -> list[str]:
    """Citizens' messages of 20 to 60 words: half function words, a third common words in
    any form, an eighth the words of one department, now and then another's, an address or a
    typo."""
    common = [*NOUNS, *ADJECTIVES, *VERBS]
    everyone = sorted({w for _, words in built for w in words})
    forms = forms_of(sorted(set(everyone) | set(common)))
    texts = []
    for _ in range(count):
        _, topic = rng.choice(built)
        words = [rng.choice(OPENERS)]
        for _ in range(rng.randint(20, 60)):
            roll = rng.random()
            if roll < 0.5:
                word = rng.choice(FUNCTION)
            elif roll < 0.82:
                word = rng.choice(forms[rng.choice(common)])
            elif roll < 0.94:
                pick = rng.choice(topic)
                word = rng.choice(forms.get(pick, [pick]))
            elif roll < 0.97:
                pick = rng.choice(everyone)
                word = rng.choice(forms.get(pick, [pick]))
            else:
                word = f"ул. {rng.choice(STREETS)}, д. {rng.randint(1, 120)}"
            words.append(typo(word, rng) if rng.random() < 0.03 else word)
        texts.append(" ".join(w for w in words if w) + rng.choice([".", "!", "?", "..."]))
    return texts


def timed(rules: Rules, texts: list[str]) -> list[float]:
    """Microseconds each message took to route."""
    spent = []
    for text in texts:
        started = clock.perf_counter_ns()
        rules.route(text)
        spent.append((clock.perf_counter_ns() - started) / 1000)
    return spent


def bench_routing(count: int = 3000) -> dict[str, Any]:
    """Mean and p95 microseconds per message, cold (empty lemma cache) and warm."""
    rng = random.Random(SEED)
    started = clock.perf_counter()
    analyzer()  # the morphology: once per process, before any timing
    load_ms = (clock.perf_counter() - started) * 1000
    built = departments(rng)
    text = rules_text(built)
    texts = messages(count, built, rng)
    lemmas.cache_clear()
    started = clock.perf_counter()
    rules = parse_rules(text, "bench")
    build_ms = (clock.perf_counter() - started) * 1000
    lemmas.cache_clear()
    cold = timed(rules, texts)
    forms = lemmas.cache_info().misses
    warm = timed(rules, texts)
    routed = sum(rules.route(t) is not None for t in texts)
    return {
        "departments": len(rules.departments),
        "rules": sum(len(d.words) for d in rules.departments),
        "messages": count,
        "words_mean": round(statistics.mean(len(t.split()) for t in texts), 1),
        "forms": forms,
        "routed": routed,
        "load_ms": round(load_ms, 1),
        "build_ms": round(build_ms, 1),
        "cold_mean_us": round(statistics.mean(cold), 1),
        "cold_p95_us": round(statistics.quantiles(cold, n=20)[-1], 1),
        "warm_mean_us": round(statistics.mean(warm), 1),
        "warm_p95_us": round(statistics.quantiles(warm, n=20)[-1], 1),
    }


def main(argv: list[str]) -> int:
    print(bench_routing(int(argv[0]) if argv else 3000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
