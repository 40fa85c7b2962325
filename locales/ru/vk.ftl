## VK attachments described in words, Russian. Keys are fixed; the wording is yours to change.

att-market = [товар{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-graffiti = [граффити]
att-story = [история]
att-gift = [подарок]
att-article = [статья{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-forwarded = [пересланное сообщение{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
