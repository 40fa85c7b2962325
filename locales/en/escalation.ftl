## Escalations, the queue and the daily digest, English. Staff-chat HTML: keep tags balanced.
## A ticket number is always written as №{ $number }. Durations are working time.

## Durations and dates

esc-duration = { $hours ->
    [0] { $minutes } min
   *[other] { $minutes ->
        [0] { $hours } h
       *[other] { $hours } h { $minutes } min
    }
}
esc-date = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
} { $day }

## The ladder

escalation-level-1 =
    ⏰ <b>№{ $number }</b> has waited { $waited } of working time. The answer was due { $deadline }.
    “{ $summary }”
escalation-level-2 =
    🔴 <b>№{ $number }</b> has had no answer for { $waited } of working time. The answer was due { $deadline }; staff have already been reminded.
    “{ $summary }”
    { $card }
escalation-repeat =
    🔴 <b>№{ $number }</b> still has no answer: { $waited } of working time (level { $level }). The answer was due { $deadline }.
    “{ $summary }”
    { $card }
escalation-card-link = <a href="{ $url }">Open card №{ $number }</a>
escalation-card-unlinked = Card №{ $number } is in the staff chat.
escalation-incident-1 =
    ⏰ <b>№{ $incident }</b> (mass incident: { $title }) waits for an answer: { $count } { $count ->
        [one] message
       *[other] messages
    } unanswered. A reply to the card goes to all.
escalation-incident-2 =
    🔴 <b>№{ $incident }</b> (mass incident: { $title }) still has no answer (level { $level }): { $count } { $count ->
        [one] message waits
       *[other] messages wait
    }. { $card }
escalation-incident-link = <a href="{ $url }">Open the card №{ $incident }</a>
escalation-mentions = On duty: { $mentions }

## /queue

queue-header = <b>Waiting for an answer: { $count }</b> (oldest first)
queue-empty = The queue is empty: every message has been answered.
queue-item-left = <b>№{ $number }</b> · { $left } left · { $summary }
queue-item-overdue = <b>№{ $number }</b> · ⏰ overdue by { $overdue } · { $summary }
queue-more = … and { $count } more
# The tickets of a confirmed incident, as one line where its longest waiting one would be.
queue-incident = <b>№{ $incident }</b> · mass incident: { $count } { $count ->
        [one] message waits
       *[other] messages wait
    } · { $title }

## The daily digest

digest-title-day = <b>Digest for { $day }</b>
digest-title-days = <b>Digest for { $first } — { $last }</b>
digest-opened = New messages: { $count }
digest-answered = First answers given: { $count }
digest-answer-times = First-answer time (working): median { $median }, 90% within { $p90 }
digest-no-answers = First-answer time: no answers in this period
digest-open-now = Open now: { $count }, of them waiting for an answer: { $waiting }
digest-overdue-now = Overdue now: { $count }
digest-overdue-list = { $numbers }
digest-more = and { $count } more
# The incidents open at any time in the period, those closed in it included.
digest-incidents = Mass incidents: { $count }
digest-incident = №{ $incident } { $title }: { $count } { $count ->
        [one] message
       *[other] messages
    } (Telegram { $telegram }, VK { $vk }), first { $first }, { $answer }
digest-incident-answered = answered { $at }
digest-incident-unanswered = unanswered
digest-moment = { $day }, { $time }
