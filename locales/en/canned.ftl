## Canned answers, English: what staff are told. The answers themselves are in templates.ftl.

staff-templates-list = Canned answers for №{ $number }; to send one, reply to the card: /template 2
staff-templates-none = There are no canned answers: they are added to templates.ftl in the texts folder (LOCALES_DIR).
staff-template-usage = To send a canned answer, reply to the card: /template 2 — a number from the /templates list (1 to { $count }).
canned-no-deadline = soon
