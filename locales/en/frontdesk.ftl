## Texts of the front desk, English. Keys are fixed; the wording is yours to change.
## A ticket number is always written as №{ $number }.

## Citizens

greeting =
    Hello! This is an official feedback channel. { $organization } answers your questions here.
    Write your question or describe the problem in one or more messages, photos welcome. We will answer here.
    Working hours: { $hours }.
    To see where your messages stand: /status on Telegram, «статус» on VK.
    A message in a messenger is not an official appeal. An official appeal can be filed through Gosuslugi or the official website.
# Shown when ORGANIZATION_NAME is not set.
organization-unnamed = The administration
greeting-site = Official website: { $url }
greeting-feedback = Gosuslugi, «Решаем вместе»: { $url }
privacy-notice =
    Personal data. Operator: { $organization }. We process your name and the link to your messenger profile, your messages and attachments, to answer you. Only the staff preparing the answer see them.
    The data is kept for { $days } days after work on the message is complete, then removed; only anonymous figures stay. Service copies are removed sooner.
    To remove your data sooner: send /forget (on VK: «удалить мои данные»).
    You have the right to know which of your data is processed and to have it corrected or deleted (Federal Law 152-FZ, art. 14): write about it here or contact the operator.
privacy-policy = Personal data policy: { $url }
ack-received = Your message №{ $number } has been received. We will answer by { $deadline }.
ack-received-comment = Your comment is registered as №{ $number }. We will answer here by { $deadline }.
answer-header = Answer to your message №{ $number }:
answer-corrected = Corrected: the answer to your message №{ $number }:
closing = Work on your message №{ $number } is complete. If the question remains, write again.
flood-notice = You are sending messages too fast. We have your message №{ $number }; please wait a minute before writing more.
# Short weekday names, Monday first, separated by spaces.
weekdays = Mon Tue Wed Thu Fri Sat Sun
hours-always = around the clock

## Times

moment = { $month ->
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
} { $day }, { $time }

## Staff chat (HTML: keep tags balanced). The citizen's text follows these headers.

platform-telegram = Telegram
platform-vk = VK
channel-direct = private message
channel-comment = comment
card =
    <b>№{ $number }</b> · { $platform } · { $channel }
    From: { $citizen }
    Answer by: { $deadline }
card-link = <a href="{ $url }">{ $name }</a>
card-post-link = <a href="{ $url }">Open the comment</a>
card-follow-up = <b>№{ $number }</b> · new message
card-edited = <b>№{ $number }</b> · message edited
card-deleted = <b>№{ $number }</b> · message deleted
staff-closed = №{ $number } closed.
staff-answer-to-closed = №{ $number } is already closed; the answer was sent anyway.
staff-delivery-failed = №{ $number }: the message could not be delivered to the citizen ({ $reason }).
staff-cannot-relay = №{ $number }: this attachment cannot be relayed to the citizen ({ $what }). The answer went without it.
staff-answer-failed = №{ $number }: the answer could not be delivered to the citizen ({ $reason }): “{ $excerpt }”.
staff-cannot-show = №{ $number }: the attachment of the citizen's message could not be shown here ({ $what }).
chat-staff = the staff chat
chat-supervisors = the supervisors' chat
staff-message-failed = №{ $number }: a message of the bot to { $chat } was not sent: Telegram did not take it ({ $reason }).
staff-message-failed-any = A message of the bot to { $chat } was not sent: Telegram did not take it ({ $reason }).
staff-supervisors-refused = №{ $number }: the supervisors' chat refuses the bot's messages ({ $reason }). Escalations wait until the bot is back there or given the rights (setting ESCALATION_CHAT_ID).
staff-supervisors-refused-any = The supervisors' chat refuses the bot's messages ({ $reason }). Messages to it wait until the bot is back there or given the rights (setting ESCALATION_CHAT_ID).
chat-department = the chat of department “{ $department }”
staff-department-refused = №{ $number }: the chat of department “{ $department }” refuses the bot's messages ({ $reason }). Its cards wait until the bot is back there or given the rights; the message can be moved to another department: /move as a reply to this message.
staff-department-refused-any = The chat of department “{ $department }” refuses the bot's messages ({ $reason }). Messages to it wait until the bot is back there or given the rights (DEPARTMENTS_FILE).
staff-topic-closed = The topic of department “{ $department }” in this chat is closed ({ $reason }): its cards wait until it is reopened.
staff-reply-to-card = To answer or run a command, reply to the message's card.
staff-merged-choose = This message of the bot names several numbers. Start your answer with the number, e.g.: №{ $number } your answer.
staff-help =
    To answer a citizen: reply to the card (or any message of the bot about it).
    /take — as a reply to a card: take the message yourself (the «Take» button); deadline reminders will mention you.
    /move — as a reply to a card: pass it to another department (the «Department» button).
    /close — as a reply to a card: close.
    /templates, /template 2 — as a reply to a card: the canned answers, and send canned answer 2.
    /interim 5 reason — as a reply to a card: an interim answer, a new deadline 5 working days ahead; the citizen sees the reason (under a comment, everyone does).
    /block, /unblock — as a reply to a card: block or unblock the author.
    /queue — the messages waiting for an answer.
    /report, /report 2026-W48 — the weekly report (chart and figures) of last week or the given one.
    /audit №17 — the audit trail of staff actions on message №17 (supervisors, in their chat).
    /id — the ids of this chat and yours (for setting the bot up).
    On a message naming several (merged cards, the list, the digest), start with the number: №17 your answer, №17 /close.
staff-flooding = №{ $number }: the author is writing too fast; new messages are kept under this number without cards.
staff-blocked = №{ $number }: the author is blocked. Their messages are kept, without acknowledgements or cards. Undo: /unblock as a reply to the card.
staff-unblocked = №{ $number }: the author is unblocked.
staff-command-not-sent = №{ $number }: “{ $command }” was not sent to the citizen: a message that starts with “/” is a command to the bot. Commands as a reply to a card: /take, /move, /close, /interim, /templates, /template, /block, /unblock; on a message naming several, like this: №{ $number } /close.
staff-command-edit-ignored = №{ $number }: an edit of “{ $command }” is not carried out — what it did stands. To change it, send the command again as a reply to the card.
staff-reply-names-no-ticket = This message of the bot is not about one number. To answer a citizen, reply to the card; on a list, start with the number: №17 your answer.
staff-anonymous-admin = administrator
staff-not-on-the-list = You are not on the list of staff who answer citizens (STAFF_USER_IDS): your answers and commands about messages are not carried out. Ask the bot's administrator to add your id (to find it: /id).
id-private = Your Telegram id: { $user }. This chat has the same id.
id-chat =
    This chat's id: { $chat }
    Your id: { $user }
id-chat-anonymous =
    This chat's id: { $chat }
    You write as an anonymous administrator: Telegram does not show your own id.
empty-text = (no text)

## Attachments described in words
# $name is «none» when there is nothing to name.

att-photo = [photo{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-live_photo = [live photo{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-sticker = [sticker{ $name ->
    [none] {""}
   *[other] {" "}{ $name }
}]
att-document = [document{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-voice = [voice message]
att-audio = [audio{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-video = [video{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-video_note = [video message]
att-animation = [GIF]
att-location = [location{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-venue = [place{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-contact = [contact{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-poll = [poll{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-checklist = [checklist{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-dice = [dice{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-game = [game{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-story = [story]
att-paid_media = [paid photos or videos]
att-invoice = [invoice{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-giveaway = [giveaway]
att-giveaway_winners = [giveaway winners]
att-passport_data = [Telegram Passport data]
att-rich_message = [formatted message{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-wall = [shared post]
att-link = [link{ $name ->
    [none] {""}
   *[other] {": "}{ $name }
}]
att-unknown = [an attachment the bot cannot show]
