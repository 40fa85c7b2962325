## The weekly report to the supervisors' chat, Russian. Plain text (no HTML): the caption
## under the chart and the chart's own labels. Durations are working time.

report-title = Отчёт за неделю { $week }: { $first } — { $last } { $year }
report-opened = Новых сообщений: { $count } (Telegram — { $telegram }, ВКонтакте — { $vk })
report-answer-times = Первый ответ (рабочее время; ответов: { $count }): медиана { $median }, 90% — не дольше { $p90 }; цель — { $target }
report-late = Позже цели: { $late } из { $count } ({ NUMBER($percent, maximumFractionDigits: 1) }%)
report-no-answers = Первых ответов за неделю не было
report-unanswered = Без ответа к концу недели: { $count }
report-departments = Больше всего сообщений: { $list }
report-department-item = { $department } — { $count }
report-department-others = другие — { $count }
report-wrong-week = Неделя указывается так: /report 2026-W48 (год и номер недели по ISO), и она должна уже закончиться; без номера — прошлая неделя. «{ $given }» не подходит.
report-not-drawn = График за неделю { $week } построить не удалось ({ $reason }); цифры — в этом сообщении.

## The chart

chart-title = Неделя { $week }: { $first } — { $last } { $year }
chart-per-day = Новые сообщения по дням
chart-telegram = Telegram
chart-vk = ВКонтакте
chart-answer-times = Первый ответ, рабочие часы
chart-median = медиана
chart-p90 = 90%
chart-target = цель { $target }
chart-late = позже цели: { NUMBER($percent, maximumFractionDigits: 1) }% ({ $late } из { $count })
chart-no-answers = ответов не было
chart-departments = Больше всего сообщений
chart-no-departments = отделы не настроены
chart-no-messages = сообщений не было
chart-weekday = { $weekday ->
    [0] Пн
    [1] Вт
    [2] Ср
    [3] Чт
    [4] Пт
    [5] Сб
   *[6] Вс
} { $day }
