## Canned answers, Russian: what staff are told. The answers themselves are in templates.ftl.

staff-templates-list = Шаблоны ответа на №{ $number }; отправить — ответом на карточку: /template 2
staff-templates-none = Шаблонов ответа нет: их добавляют в templates.ftl в папке текстов (LOCALES_DIR).
staff-template-usage = Чтобы отправить шаблон, ответьте на карточку: /template 2 — номер из списка /templates (от 1 до { $count }).
canned-no-deadline = в ближайшее время
