## Escalations, the queue and the daily digest, Russian. Staff-chat HTML: keep tags balanced.
## A ticket number is always written as №{ $number }. Durations are working time.

## Durations and dates

esc-duration = { $hours ->
    [0] { $minutes } мин
   *[other] { $minutes ->
        [0] { $hours } ч
       *[other] { $hours } ч { $minutes } мин
    }
}
esc-date = { $day } { $month ->
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

## The ladder

escalation-level-1 =
    ⏰ <b>№{ $number }</b> ждёт ответа { $waited } рабочего времени. Срок ответа истёк { $deadline }.
    «{ $summary }»
escalation-level-2 =
    🔴 <b>№{ $number }</b> без ответа { $waited } рабочего времени. Срок ответа истёк { $deadline }, сотрудники уже получили напоминание.
    «{ $summary }»
    { $card }
escalation-repeat =
    🔴 <b>№{ $number }</b> всё ещё без ответа: { $waited } рабочего времени (уровень { $level }). Срок ответа истёк { $deadline }.
    «{ $summary }»
    { $card }
escalation-card-link = <a href="{ $url }">Открыть карточку №{ $number }</a>
escalation-card-unlinked = Карточка №{ $number } — в чате сотрудников.
escalation-incident-1 =
    ⏰ <b>№{ $incident }</b> (массовое: { $title }) ждёт ответа: { $count } { $count ->
        [one] сообщение
        [few] сообщения
       *[many] сообщений
    } без ответа. Ответ на карточку уйдёт всем.
escalation-incident-2 =
    🔴 <b>№{ $incident }</b> (массовое: { $title }) всё ещё без ответа (уровень { $level }): { $count } { $count ->
        [one] сообщение
        [few] сообщения
       *[many] сообщений
    } ждут. { $card }
escalation-incident-link = <a href="{ $url }">Открыть карточку №{ $incident }</a>
escalation-mentions = Дежурные: { $mentions }

## /queue

queue-header = <b>Ждут ответа: { $count }</b> (сначала самые давние)
queue-empty = Очередь пуста: на все сообщения есть ответ.
queue-item-left = <b>№{ $number }</b> · осталось { $left } · { $summary }
queue-item-overdue = <b>№{ $number }</b> · ⏰ просрочено на { $overdue } · { $summary }
queue-more = … и ещё { $count }
# The tickets of a confirmed incident, as one line where its longest waiting one would be.
queue-incident = <b>№{ $incident }</b> · массовое: { $count } { $count ->
        [one] сообщение ждёт
        [few] сообщения ждут
       *[many] сообщений ждут
    } · { $title }

## The daily digest

digest-title-day = <b>Сводка за { $day }</b>
digest-title-days = <b>Сводка за { $first } — { $last }</b>
digest-opened = Новых сообщений: { $count }
digest-answered = Получили первый ответ: { $count }
digest-answer-times = Время первого ответа (рабочее): медиана { $median }, 90% — не дольше { $p90 }
digest-no-answers = Время первого ответа: ответов за этот период не было
digest-open-now = Открыто сейчас: { $count }, из них ждут ответа: { $waiting }
digest-overdue-now = Просрочено сейчас: { $count }
digest-overdue-list = { $numbers }
digest-more = и ещё { $count }
# The incidents open at any time in the period, those closed in it included.
digest-incidents = Массовые: { $count }
digest-incident = №{ $incident } { $title }: { $count } { $count ->
        [one] сообщение
        [few] сообщения
       *[many] сообщений
    } (Telegram { $telegram }, ВКонтакте { $vk }), первое { $first }, { $answer }
digest-incident-answered = ответ { $at }
digest-incident-unanswered = без ответа
digest-moment = { $day }, { $time }
