## VK attachments described in words, English. Keys are fixed; the wording is yours to change.

att-market = [product{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-market_album = [product collection{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-graffiti = [graffiti]
att-gift = [gift]
att-article = [article{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-forwarded = [forwarded message{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-wall_reply = [comment on a post{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-call = [call]
att-video_playlist = [video playlist{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-audio_playlist = [audio playlist{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-podcast = [podcast{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-note = [note{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-page = [wiki page{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-group_call = [group call]
att-mini_app = [mini app{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-narrative = [story collection]
att-clip = [clip{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-event = [event{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-money = [money transfer]
att-album = [photo album{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
