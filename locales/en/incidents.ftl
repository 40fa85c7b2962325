## Mass incidents, English: one problem many citizens wrote about, answered once.
## An incident is named №I-<n>; its tickets by their own №<n>.

incident-suggested = <b>Looks like a mass incident: { $count } { $count ->
        [one] message
       *[other] messages
    } — { $title }</b>
incident-numbers = Messages: { $numbers }
incident-suggested-hint = “Merge” — one card and one answer to all; new messages like these join by themselves. “Different” — keep the messages apart.
incident-card = <b>№{ $incident } Mass incident: { $title }</b>
    { $count } { $count ->
        [one] message
       *[other] messages
    } (Telegram: { $telegram }, VK: { $vk })
incident-card-hint = A reply to this card goes to everyone who wrote, where they wrote. “Close” closes every message and tells the citizens.
incident-joined = <b>№{ $incident }: one more message №{ $number }</b> ({ $platform }). A reply to this message goes to this citizen alone.
incident-ack = Your message №{ $number } has been received. We know about this problem (“{ $title }”) and will tell you when it is solved.
incident-ack-comment = Your comment is №{ $number }. We know about this problem (“{ $title }”) and will answer here when it is solved.
incident-merged = №{ $incident }: { $count } { $count ->
        [one] message
       *[other] messages
    } merged. The card is below: a reply to it goes to all.
incident-apart = №{ $incident }: messages { $numbers } stay apart and will not be suggested for merging again.
incident-closed = №{ $incident } closed: { $count } { $count ->
        [one] message
       *[other] messages
    } closed, the citizens told.
incident-answered = №{ $incident }: the answer went to { $count } { $count ->
        [one] citizen
       *[other] citizens
    }.
incident-answered-before = №{ $incident }: this answer was sent already.
incident-is-suggested = №{ $incident } is not merged yet: press “Merge” or “Different”.
incident-is-open = №{ $incident } is merged already.
incident-is-dismissed = №{ $incident }: the messages were kept apart already.
incident-is-closed = №{ $incident } is closed already.
incident-answer-suggested = №{ $incident } is not merged yet; the answer went to nobody: press “Merge” first, or answer the messages' cards.
incident-answer-dismissed = №{ $incident }: the messages were kept apart; the answer went to nobody: answer the messages' cards.
incident-answer-closed = №{ $incident } is closed; the answer went to nobody.
incident-command-unknown = №{ $incident }: { $command } does not work here. A reply to the card goes to all; /merge, /apart, /close, /title, /list.
incident-taken-out = №{ $incident }: message №{ $number } taken out and will not join again; an answer to the card №{ $incident } will not reach it.
incident-moved-from = №{ $incident }
incident-not-its = №{ $incident }: message №{ $number } is not in it.
incident-join-which = №{ $number }: name an open mass incident, e.g. /join И-3.
incident-join-closed = №{ $number } is closed: not joined to №{ $incident }.
incident-join-already = №{ $number } is in №{ $incident } already.
incident-join-apart = №{ $number } was taken out of incidents by staff: not joined to №{ $incident }.
incident-joined-by-staff = №{ $number } joined №{ $incident }: an answer to the card №{ $incident } reaches it too.
incident-number = I-{ $id }
ticket-number = №{ $number }
incident-numbers-more = { $numbers } and { $count } more
incident-sample = — { $text }
incident-none = №{ $number } is in no mass incident.
incident-titled = №{ $incident } is now called “{ $title }”: new reporters, the digest and /queue see it so.
incident-title-usage = №{ $incident }: write the title after the command, e.g. /title No heating on Lenina street.
incident-progress = Answer: { $sent } of { $count } sent{ $failed ->
        [0] {""}
       *[other] , { $failed } not delivered
    }.
# On the card, when a storm of reporters joined without a line each: how many, the latest.
incident-folded = { $count } more { $count ->
        [one] message
       *[other] messages
    } joined without a line of their own. The latest (all of them: /list replying to the card):
incident-folded-sample = — №{ $number }: { $text }
# The card of a closed incident, instead of the hint.
incident-card-closed = Closed: every message is closed and the citizens are told.
# /list on the card: every reporter, in as many messages as it takes.
incident-list = <b>№{ $incident }: every message ({ $count }), part { $part } of { $parts }.</b> A reply “№17 text” to this list goes to citizen №17 alone; “/apart 17” on the card takes one out.
incident-list-item = №{ $number } ({ $platform }): { $text }
incident-list-more = More: “/list { $next }” replying to the card.
