## Texts of the front desk, Russian. Keys are fixed; the wording is yours to change.
## A ticket number is always written as №{ $number }.

## Citizens

greeting =
    Здравствуйте! Это официальный канал обратной связи администрации.
    Напишите ваш вопрос или опишите проблему одним или несколькими сообщениями, можно с фото. Мы ответим здесь же.
    Время работы: { $hours }.
    Ваше имя и сообщения видят только сотрудники, которые готовят ответ; мы используем их лишь для ответа вам.
    Сообщение в мессенджере не является официальным обращением по 59-ФЗ. Официальное обращение можно подать через Госуслуги или официальный сайт.
ack-received = Ваше сообщение №{ $number } получено. Ответим до { $deadline }.
ack-received-comment = Спасибо! Ваш комментарий получил номер №{ $number }. Ответим здесь до { $deadline }.
answer-header = Ответ на ваше сообщение №{ $number }:
closing = Ваше сообщение №{ $number } закрыто. Если вопрос остался, просто напишите снова.
flood-notice = Вы отправляете сообщения слишком часто. Мы получили ваше сообщение №{ $number }; подождите минуту, прежде чем писать ещё.
# Short weekday names, Monday first, separated by spaces.
weekdays = Пн Вт Ср Чт Пт Сб Вс
hours-always = круглосуточно

## Times

moment = { $time } { $day } { $month ->
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
}

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
staff-reply-to-card = Чтобы ответить или выполнить команду, ответьте на карточку обращения.
staff-merged-choose = Это сообщение называет несколько обращений. Начните ответ с номера, например: №{ $number } текст ответа.
staff-help =
    Ответ гражданину: ответьте на карточку (или на любое сообщение бота о нём).
    /close — ответом на карточку: закрыть.
    /block, /unblock — ответом на карточку: заблокировать или разблокировать автора.
    /queue — список ожидающих ответа.
staff-flooding = №{ $number }: автор пишет слишком часто; новые сообщения сохраняются на обращении без карточек.
staff-blocked = №{ $number }: автор заблокирован. Его сообщения сохраняются, но без подтверждений и карточек. Снять: /unblock ответом на карточку.
staff-unblocked = №{ $number }: автор разблокирован.
empty-text = (без текста)

## Attachments described in words

att-photo = [фото]
att-sticker = [стикер{ $name ->
    [none] {""}
   *[other] {" "}{ $name }
}]
att-document = [документ: { $name }]
att-voice = [голосовое сообщение]
att-audio = [аудио: { $name }]
att-video = [видео]
att-video_note = [видеосообщение]
att-animation = [GIF]
att-location = [геопозиция: { $name }]
att-contact = [контакт: { $name }]
att-poll = [опрос: { $name }]
att-wall = [репост записи]
att-link = [ссылка: { $name }]
att-other = [вложение: { $name }]
