## What the desk says in the staff chat about itself: the store and incoming updates.

# Incoming messages the desk tried for about an hour and could not handle; they are kept.
staff-intake-set-aside = Не удалось обработать { $count ->
    [one] { $count } входящее сообщение
    [few] { $count } входящих сообщения
   *[many] { $count } входящих сообщений
} (пробовали около часа): { $reason }. Ничего не потеряно, но пока они не обработаны, граждане не получат подтверждений, а ответы сотрудников не уйдут. Устраните причину и перезапустите бота — сообщения будут обработаны снова.
# A store file was created at this start: ticket numbers begin again.
staff-new-store = Начато новое хранилище { $path }: нумерация с №1. Если раньше бот работал с другим файлом, проверьте DATABASE_URL.
# Incoming updates the desk could not read at all (malformed, an unknown kind); kept in the inbox.
staff-intake-unreadable = Не удалось прочитать { $count ->
    [one] { $count } входящее сообщение
    [few] { $count } входящих сообщения
   *[many] { $count } входящих сообщений
} (неверный формат или неизвестный вид). { $count ->
    [1] Оно сохранено в хранилище бота (таблица inbox) с причиной; гражданин не получил подтверждения.
   *[other] Они сохранены в хранилище бота (таблица inbox) с причиной; граждане не получили подтверждений.
} Сообщите администратору бота.
# VK's long poll lost events it cannot give back (history gap); staff should look in VK itself.
staff-vk-events-missed = ВКонтакте не передал боту часть событий: сообщения и комментарии с { $since } по { $until } могли не дойти до бота. Проверьте сообщения сообщества и комментарии за это время во ВКонтакте и ответьте там.
staff-vk-events-missed-before = ВКонтакте не передал боту часть событий: сообщения и комментарии до { $until } могли не дойти до бота. Проверьте сообщения сообщества и комментарии во ВКонтакте и ответьте там.
