## A citizen's status request (/status on Telegram, «статус» on VK), English. Plain text.
## Only the citizen's own open tickets are listed: number, state, deadline; newest first.

status-header = Your open messages:
# Waiting on staff, no answer yet; with the deadline where there is one.
status-accepted = №{ $number }: received, we are preparing an answer
status-accepted-until = №{ $number }: received, we will answer by { $deadline }
# Waiting past its deadline: the date is shown as gone by, not as a promise.
status-overdue = №{ $number } — received; the answer was due { $deadline } and we will answer as soon as we can
# Staff answered; the ticket is not closed yet.
status-answered = №{ $number }: answered
# Staff gave an interim answer on $date; the answer is due by $deadline.
status-interim = №{ $number }: interim answer on { $date }, we will answer by { $deadline }
# After the first ten: how many more open tickets there are.
status-more = and { $count } more
status-none =
    You have no open messages.
    To ask a question, write it here in one or more messages, photos welcome. We will answer here.
