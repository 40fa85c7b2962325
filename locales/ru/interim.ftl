## Interim answers, Russian: staff give a new date when the answer takes longer.

# To the citizen (plain text); staff's reason, if given, follows on its own line after the label.
interim-citizen = Работа по сообщению №{ $number } продолжается: ответ займёт больше времени. Ответим до { $deadline }.
interim-reason = Причина:
# To staff.
staff-interim-set = №{ $number }: новый срок — { $deadline }. Сообщение с новой датой отправляется гражданину; если оно не дойдёт, бот скажет.
staff-interim-usage = Чтобы назначить новый срок, ответьте на карточку: /interim 5 — число рабочих дней (от 1 до { $most }), после него можно написать причину для гражданина (под комментарием её увидят все).
staff-interim-closed = №{ $number } закрыто: новый срок не назначен.
staff-interim-not-later = №{ $number }: срок через столько рабочих дней ({ $deadline }) не позже нынешнего ({ $current }); срок не изменён, гражданину ничего не отправлено.
digest-interim = Получили промежуточный ответ (новый срок): { $count }
