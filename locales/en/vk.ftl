## VK attachments described in words, English. Keys are fixed; the wording is yours to change.

att-market = [product{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-graffiti = [graffiti]
att-story = [story]
att-gift = [gift]
att-article = [article{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-forwarded = [forwarded message{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
