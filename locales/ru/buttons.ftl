## Buttons under staff-side messages, Russian: each one sends the command it names.

# Under a ticket's card.
button-take = Взять
# «Взять» once someone has taken the ticket: who holds it.
button-held = ✋ { $name }
button-move = Отдел
button-templates = Шаблон
button-interim = Срок
button-close = Закрыть
button-block = Заблокировать
# Under an incident suggestion, and under an open incident's card.
button-merge = Объединить
button-apart = Это разные
button-close-incident = Закрыть все
button-not-incident = Это другое
# Under the /interim usage notice: a new deadline this many working days ahead.
button-interim-days = { $days } дн.
# Alerts on a press that does nothing.
button-not-staff = Вас нет в списке сотрудников, которые отвечают гражданам (STAFF_USER_IDS): кнопки не работают. Попросите администратора бота добавить ваш id (узнать его: /id).
button-refused = Эта кнопка ничего не делает: нажмите кнопку под карточкой сообщения в чате сотрудников.
