## VK attachments described in words, Russian. Keys are fixed; the wording is yours to change.

att-market = [товар{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-market_album = [подборка товаров{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-graffiti = [граффити]
att-gift = [подарок]
att-article = [статья{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-forwarded = [пересланное сообщение{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-wall_reply = [комментарий к записи{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-call = [звонок]
att-video_playlist = [плейлист видео{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-audio_playlist = [плейлист аудио{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-podcast = [подкаст{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-note = [заметка{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-page = [вики-страница{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-group_call = [групповой звонок]
att-mini_app = [мини-приложение{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-narrative = [сюжет из историй]
att-clip = [клип{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-event = [мероприятие{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-money = [денежный перевод]
att-album = [фотоальбом{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
