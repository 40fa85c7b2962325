## Taking a ticket («Взять», /take) and passing it to a department («Отдел», /move), Russian.

staff-taken = №{ $number } взял(а) { $holder }.
staff-taken-over = №{ $number } взял(а) { $holder } (было у: { $previous }).
staff-take-yours = №{ $number } уже у вас.
staff-take-closed = №{ $number } закрыто — брать нечего.
# The mention of the holder in a level-1 reminder; $holder is a link to them.
escalation-holder = Взял(а): { $holder }
move-choose = №{ $number }: в какой отдел передать? Сейчас: { $current }.
move-none = Отделы не настроены: все сообщения идут в этот чат. Отделы задаёт файл DEPARTMENTS_FILE.
move-unknown = №{ $number }: нет отдела «{ $wanted }». Нажмите «Отдел» под карточкой, чтобы выбрать из списка.
move-same = №{ $number } уже в отделе «{ $department }».
move-closed = №{ $number } закрыто — передавать нечего.
# Said under the old card, whose buttons are taken away.
move-done = №{ $number } передано: { $department }. Карточка — там; ответ на эту карточку по-прежнему дойдёт гражданину.
# Heads the card re-posted where the ticket now belongs.
move-card-header = №{ $number } передано из «{ $from }» ({ $by }).
# The staff chat's own share, when the ticket goes back to it.
department-general = общий чат сотрудников
