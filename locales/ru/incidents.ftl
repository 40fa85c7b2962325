## Mass incidents, Russian: one problem many citizens wrote about, answered once.
## An incident is named №И-<n>; its tickets by their own №<n>.

# The desk's suggestion to staff, with «Объединить» and «Это разные» under it.
incident-suggested = <b>Похоже на массовое: { $count } { $count ->
        [one] сообщение
        [few] сообщения
       *[many] сообщений
    } — { $title }</b>
incident-numbers = Сообщения: { $numbers }
incident-suggested-hint = «Объединить» — одна карточка и один ответ всем, новые такие сообщения присоединятся сами. «Это разные» — оставить сообщения отдельными.
# The card of a confirmed incident; a reply to it goes to every reporter.
incident-card = <b>№{ $incident } Массовое: { $title }</b>
    { $count } { $count ->
        [one] сообщение
        [few] сообщения
       *[many] сообщений
    } (Telegram: { $telegram }, ВКонтакте: { $vk })
incident-card-hint = Ответ на эту карточку уйдёт каждому, кто написал, — туда, где он писал. «Закрыть» закроет все сообщения и сообщит об этом гражданам.
# Under the incident's card: one more citizen wrote about it.
incident-joined = <b>№{ $incident }: ещё сообщение №{ $number }</b> ({ $platform }). Ответ на это сообщение уйдёт только этому гражданину.
# To the citizen whose message joined a confirmed incident.
incident-ack = Ваше сообщение №{ $number } получено. Мы знаем об этой проблеме («{ $title }») и сообщим, когда она будет решена.
incident-ack-comment = Комментарию присвоен №{ $number }. Мы знаем об этой проблеме («{ $title }») и ответим здесь, когда она будет решена.
# What staff are told back.
incident-merged = №{ $incident }: объединено { $count } { $count ->
        [one] сообщение
        [few] сообщения
       *[many] сообщений
    }. Карточка — ниже: ответ на неё уйдёт всем.
incident-apart = №{ $incident }: сообщения { $numbers } остаются отдельными и больше не будут предложены к объединению.
incident-closed = №{ $incident } закрыто: { $count } { $count ->
        [one] сообщение закрыто
        [few] сообщения закрыты
       *[many] сообщений закрыто
    }, граждане уведомлены.
incident-answered = №{ $incident }: ответ отправлен { $count } { $count ->
        [one] гражданину
       *[other] гражданам
    }.
incident-answered-before = №{ $incident }: этот ответ уже отправлен.
incident-is-suggested = №{ $incident } ещё не объединено: нажмите «Объединить» или «Это разные».
incident-is-open = №{ $incident } уже объединено.
incident-is-dismissed = №{ $incident }: сообщения уже оставлены отдельными.
incident-is-closed = №{ $incident } уже закрыто.
incident-answer-suggested = №{ $incident } ещё не объединено, ответ никому не отправлен: сначала нажмите «Объединить», или отвечайте на карточки сообщений.
incident-answer-dismissed = №{ $incident }: сообщения оставлены отдельными, ответ никому не отправлен: отвечайте на карточки сообщений.
incident-answer-closed = №{ $incident } закрыто, ответ никому не отправлен.
incident-command-unknown = №{ $incident }: команда { $command } здесь не работает. Ответ на карточку уйдёт всем; /merge, /apart, /close, /title, /list.
# Staff take a ticket out of an incident (/apart 17, «Это другое») or add one (/join И-3).
incident-taken-out = №{ $incident }: сообщение №{ $number } вынесено и больше не присоединится; ответ на карточку №{ $incident } до него не дойдёт.
incident-moved-from = №{ $incident }
incident-not-its = №{ $incident }: сообщения №{ $number } в нём нет.
incident-join-which = №{ $number }: укажите открытое массовое, например /join И-3.
incident-join-closed = №{ $number } закрыто: к №{ $incident } не присоединено.
incident-join-already = №{ $number } уже в №{ $incident }.
incident-join-apart = №{ $number } вынесено из массовых сотрудниками: к №{ $incident } не присоединено.
incident-joined-by-staff = №{ $number } присоединено к №{ $incident }: ответ на карточку №{ $incident } дойдёт и до него.
# How an incident and a ticket are named in lists.
incident-number = И-{ $id }
ticket-number = №{ $number }
incident-numbers-more = { $numbers } и ещё { $count }
incident-sample = — { $text }
incident-none = №{ $number } не входит ни в одно массовое.
# /title on an incident's card.
incident-titled = №{ $incident } теперь называется «{ $title }»: так его увидят новые сообщившие, сводка и /queue.
incident-title-usage = №{ $incident }: напишите название после команды, например /title Нет отопления на ул. Ленина.
# On the incident's card while its answer goes out, and after.
incident-progress = Ответ: отправлено { $sent } из { $count }{ $failed ->
        [0] {""}
       *[other] , не доставлено { $failed }
    }.
# On the card, when a storm of reporters joined without a line each: how many, the latest.
incident-folded = Ещё { $count } { $count ->
        [one] сообщение присоединилось
        [few] сообщения присоединились
       *[many] сообщений присоединилось
    } без отдельной строки. Последние (все — /list в ответ на карточку):
incident-folded-sample = — №{ $number }: { $text }
# The card of a closed incident, instead of the hint.
incident-card-closed = Закрыто: все сообщения закрыты, гражданам сообщено.
# /list on the card: every reporter, in as many messages as it takes.
incident-list = <b>№{ $incident }: все сообщения ({ $count }), часть { $part } из { $parts }.</b> Ответ «№17 текст» на этот список уйдёт только гражданину №17; «/apart 17» на карточку — вынести.
incident-list-item = №{ $number } ({ $platform }): { $text }
incident-list-more = Дальше: «/list { $next }» в ответ на карточку.
