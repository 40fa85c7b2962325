## Interim answers, Russian: staff give a new date when the answer takes longer.

# To the citizen (plain text); staff's reason, if given, follows on its own line after the label.
interim-citizen = Работа по сообщению №{ $number } продолжается: ответ займёт больше времени. Ответим до { $deadline }.
interim-reason = Причина:
# To staff.
staff-interim-set = №{ $number }: новый срок — { $deadline }. Житель уведомлён.
staff-interim-usage = Чтобы назначить новый срок, ответьте на карточку: /interim 5 — число рабочих дней (от 1 до { $most }), после него можно написать причину для жителя.
staff-interim-closed = №{ $number } закрыто: новый срок не назначен.
digest-interim = Промежуточных ответов (новый срок): { $count }
