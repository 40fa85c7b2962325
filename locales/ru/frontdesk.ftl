## Texts of the front desk, Russian. Keys are fixed; the wording is yours to change.
## A ticket number is always written as №{ $number }.

## Citizens

greeting =
    Здравствуйте! Это официальный канал обратной связи. { $organization } отвечает здесь на ваши вопросы.
    Напишите ваш вопрос или опишите проблему одним или несколькими сообщениями, можно с фото. Мы ответим здесь же.
    Время работы: { $hours }.
    Узнать, что с вашими сообщениями: /status в Telegram, «статус» во ВКонтакте.
    Сообщение в мессенджере не является официальным обращением по 59-ФЗ. Официальное обращение можно подать через Госуслуги или официальный сайт.
# Shown when ORGANIZATION_NAME is not set.
organization-unnamed = Администрация
greeting-site = Официальный сайт: { $url }
greeting-feedback = Госуслуги. Решаем вместе: { $url }
privacy-notice =
    О персональных данных. Оператор: { $organization }. Мы обрабатываем ваше имя и ссылку на профиль в мессенджере, ваши сообщения и вложения — чтобы ответить вам. Их видят только сотрудники, которые готовят ответ.
    Данные хранятся { $days } дн. после того, как работа по сообщению закончена, затем удаляются; остаются только обезличенные цифры. Служебные копии удаляются раньше.
    Удалить ваши данные раньше: отправьте /forget (во ВКонтакте — «удалить мои данные»).
    Вы вправе узнать, какие ваши данные обрабатываются, потребовать их уточнения или удаления (152-ФЗ, ст. 14): напишите об этом сюда же или обратитесь к оператору.
privacy-policy = Политика обработки персональных данных: { $url }
ack-received = Ваше сообщение №{ $number } получено. Ответим до { $deadline }.
ack-received-comment = Комментарию присвоен №{ $number }. Ответим здесь до { $deadline }.
answer-header = Ответ на ваше сообщение №{ $number }:
answer-corrected = Исправлено: ответ на ваше сообщение №{ $number }:
closing = Работа по сообщению №{ $number } завершена. Если вопрос остался, напишите снова.
flood-notice = Вы отправляете сообщения слишком часто. Мы получили ваше сообщение №{ $number }; подождите минуту, прежде чем писать ещё.
# Short weekday names, Monday first, separated by spaces.
weekdays = Пн Вт Ср Чт Пт Сб Вс
hours-always = круглосуточно

## Times

moment = { $day } { $month ->
    [1] января
    [2] февраля
    [3] марта
    [4] апреля
    [5] мая
    [6] июня
    [7] июля
    [8] августа
    [9] сентября
    [10] октября
    [11] ноября
   *[12] декабря
}, { $time }

## Staff chat (HTML: keep tags balanced). The citizen's text follows these headers.

platform-telegram = Telegram
platform-vk = ВКонтакте
channel-direct = личное сообщение
channel-comment = комментарий
card =
    <b>№{ $number }</b> · { $platform } · { $channel }
    От: { $citizen }
    Ответить до: { $deadline }
card-link = <a href="{ $url }">{ $name }</a>
card-post-link = <a href="{ $url }">Открыть комментарий</a>
card-follow-up = <b>№{ $number }</b> · новое сообщение
card-edited = <b>№{ $number }</b> · сообщение изменено
card-deleted = <b>№{ $number }</b> · сообщение удалено
staff-closed = №{ $number } закрыто.
staff-answer-to-closed = №{ $number } уже закрыто; ответ всё равно отправлен.
staff-delivery-failed = №{ $number }: не удалось доставить сообщение гражданину ({ $reason }).
staff-cannot-relay = №{ $number }: это вложение нельзя переслать гражданину ({ $what }). Ответ отправлен без него.
staff-answer-failed = №{ $number }: не удалось доставить ответ гражданину ({ $reason }): «{ $excerpt }».
staff-cannot-show = №{ $number }: вложение сообщения гражданина не удалось показать здесь ({ $what }).
chat-staff = чат сотрудников
chat-supervisors = чат руководителей
staff-message-failed = №{ $number }: сообщение бота в { $chat } не отправлено: Telegram его не принял ({ $reason }).
staff-message-failed-any = Сообщение бота в { $chat } не отправлено: Telegram его не принял ({ $reason }).
staff-supervisors-refused = №{ $number }: чат руководителей не принимает сообщения бота ({ $reason }). Эскалации ждут, пока бота не вернут или не дадут ему права (настройка ESCALATION_CHAT_ID).
staff-supervisors-refused-any = Чат руководителей не принимает сообщения бота ({ $reason }). Сообщения туда ждут, пока бота не вернут или не дадут ему права (настройка ESCALATION_CHAT_ID).
chat-department = чат отдела «{ $department }»
staff-department-refused = №{ $number }: чат отдела «{ $department }» не принимает сообщения бота ({ $reason }). Карточки отдела ждут, пока бота не вернут или не дадут ему права; сообщение можно перенести в другой отдел: /move ответом на это сообщение.
staff-department-refused-any = Чат отдела «{ $department }» не принимает сообщения бота ({ $reason }). Сообщения туда ждут, пока бота не вернут или не дадут ему права (DEPARTMENTS_FILE).
staff-topic-closed = Тема отдела «{ $department }» в этом чате закрыта ({ $reason }): карточки отдела ждут, пока её не откроют снова.
staff-reply-to-card = Чтобы ответить или выполнить команду, ответьте на карточку сообщения.
staff-merged-choose = Это сообщение бота называет несколько номеров. Начните ответ с номера, например: №{ $number } текст ответа.
staff-help =
    Ответ гражданину: ответьте на карточку (или на любое сообщение бота о нём).
    /take — ответом на карточку: взять сообщение себе (кнопка «Взять»); напоминания о сроке будут упоминать вас.
    /move — ответом на карточку: передать в другой отдел (кнопка «Отдел»).
    /close — ответом на карточку: закрыть.
    /templates, /template 2 — ответом на карточку: список шаблонов ответа и отправить шаблон 2.
    /interim 5 причина — ответом на карточку: промежуточный ответ, новый срок через 5 рабочих дней; причину увидит гражданин (под комментарием — все).
    /block, /unblock — ответом на карточку: заблокировать или разблокировать автора.
    /queue — список ожидающих ответа.
    /report, /report 2026-W48 — недельный отчёт (график и цифры) за прошлую или указанную неделю.
    /audit №17 — журнал действий сотрудников по сообщению №17 (руководителям, в их чате).
    /id — id этого чата и ваш (для настройки бота).
    На сообщении с несколькими номерами (слитые карточки, список, сводка) начните с номера: №17 текст ответа, №17 /close.
staff-flooding = №{ $number }: автор пишет слишком часто; новые сообщения сохраняются под этим номером без карточек.
staff-blocked = №{ $number }: автор заблокирован. Его сообщения сохраняются, но без подтверждений и карточек. Снять: /unblock ответом на карточку.
staff-unblocked = №{ $number }: автор разблокирован.
staff-command-not-sent = №{ $number }: «{ $command }» не отправлено гражданину: сообщение, которое начинается с «/», — команда боту. Команды ответом на карточку: /take, /move, /close, /interim, /templates, /template, /block, /unblock; на сообщении с несколькими номерами — так: №{ $number } /close.
staff-command-edit-ignored = №{ $number }: правка команды «{ $command }» не выполняется — сделанное ею остаётся в силе. Чтобы изменить, отправьте команду заново ответом на карточку.
staff-reply-names-no-ticket = Это сообщение бота не относится к одному номеру. Чтобы ответить гражданину, ответьте на карточку; на список — начните с номера: №17 текст ответа.
staff-anonymous-admin = администратор
staff-not-on-the-list = Вас нет в списке сотрудников, которые отвечают гражданам (STAFF_USER_IDS): ваши ответы и команды по сообщениям не выполняются. Попросите администратора бота добавить ваш id (узнать его: /id).
id-private = Ваш id в Telegram: { $user }. У этого чата тот же id.
id-chat =
    id этого чата: { $chat }
    Ваш id: { $user }
id-chat-anonymous =
    id этого чата: { $chat }
    Вы пишете как анонимный администратор: Telegram не показывает ваш личный id.
empty-text = (без текста)

## Attachments described in words
# $name is «none» when there is nothing to name.

att-photo = [фото{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-live_photo = [живое фото{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-sticker = [стикер{ $name ->
    [none] {""}
   *[other] {" "}{ $name }
}]
att-document = [документ{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-voice = [голосовое сообщение]
att-audio = [аудио{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-video = [видео{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-video_note = [видеосообщение]
att-animation = [GIF]
att-location = [геопозиция{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-venue = [место{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-contact = [контакт{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-poll = [опрос{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-checklist = [список задач{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-dice = [кубик{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-game = [игра{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-story = [история]
att-paid_media = [платные фото или видео]
att-invoice = [счёт на оплату{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-giveaway = [розыгрыш]
att-giveaway_winners = [итоги розыгрыша]
att-passport_data = [данные Telegram Passport]
att-rich_message = [сообщение с оформлением{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-wall = [репост записи]
att-link = [ссылка{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-unknown = [вложение, которое бот не умеет показать]
