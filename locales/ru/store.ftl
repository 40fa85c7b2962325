## What the desk says in the staff chat about itself: the store and incoming updates.

# Incoming messages the desk tried for about an hour and could not handle; they are kept.
staff-intake-set-aside = Не удалось обработать { $count ->
    [one] { $count } входящее сообщение
    [few] { $count } входящих сообщения
   *[many] { $count } входящих сообщений
} (пробовали около часа): { $reason }. Они сохранены; граждане пока не получили подтверждений. Устраните причину и перезапустите бота — сообщения будут обработаны снова.
# A store file was created at this start: ticket numbers begin again.
staff-new-store = Начато новое хранилище { $path }: нумерация с №1. Если раньше бот работал с другим файлом, проверьте DATABASE_URL.
