## The weekly report to the supervisors' chat, English. Plain text (no HTML): the caption
## under the chart and the chart's own labels. Durations are working time.

report-title = Week { $week } report: { $first } — { $last }, { $year }
report-opened = New messages: { $count } (Telegram { $telegram }, VK { $vk })
report-answer-times = First answer (working time; { $count } answered): median { $median }, 90% within { $p90 }; target { $target }
report-late = Later than the target: { $late } of { $count } ({ NUMBER($percent, maximumFractionDigits: 1) }%)
report-no-answers = No first answers this week
report-unanswered = Without an answer at the end of the week: { $count }
report-departments = Most messages: { $list }
report-department-item = { $department } — { $count }
report-department-others = others — { $count }
report-wrong-week = Give the week as /report 2026-W48 (the ISO year and week number), a week that has ended; without it, last week. “{ $given }” is not one.
report-not-drawn = The chart of week { $week } could not be drawn ({ $reason }); the figures are in this message.

## The chart

chart-title = Week { $week }: { $first } — { $last }, { $year }
chart-per-day = New messages a day
chart-telegram = Telegram
chart-vk = VK
chart-answer-times = First answer, working hours
chart-median = median
chart-p90 = 90%
chart-target = target { $target }
chart-late = later than the target: { NUMBER($percent, maximumFractionDigits: 1) }% ({ $late } of { $count })
chart-no-answers = no answers
chart-departments = Most messages
chart-no-departments = no departments set up
chart-no-messages = no messages
chart-weekday = { $weekday ->
    [0] Mon
    [1] Tue
    [2] Wed
    [3] Thu
    [4] Fri
    [5] Sat
   *[6] Sun
} { $day }
