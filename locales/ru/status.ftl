## A citizen's status request (/status on Telegram, «статус» on VK), Russian. Plain text.
## Only the citizen's own open tickets are listed: number, state, deadline; newest first.

status-header = Ваши открытые сообщения:
# Waiting on staff, no answer yet; with the deadline where there is one.
status-accepted = №{ $number } — принято, готовим ответ
status-accepted-until = №{ $number } — принято, ответим до { $deadline }
# Waiting past its deadline: the date is shown as gone by, not as a promise.
status-overdue = №{ $number } — принято, срок ответа ({ $deadline }) прошёл; ответим как можно скорее
# Staff answered; the ticket is not closed yet.
status-answered = №{ $number } — ответ дан
# Staff gave an interim answer on $date; the answer is due by $deadline.
status-interim = №{ $number } — промежуточный ответ { $date }, ответим до { $deadline }
# After the first ten: how many more open tickets there are.
status-more = и ещё { $count }
status-none =
    Открытых сообщений у вас нет.
    Чтобы задать вопрос, напишите его сюда одним или несколькими сообщениями, можно с фото. Мы ответим здесь же.
