## Interim answers, English: staff give a new date when the answer takes longer.

# To the citizen (plain text); staff's reason, if given, follows on its own line after the label.
interim-citizen = We are still working on your message №{ $number }: the answer takes longer. We will answer by { $deadline }.
interim-reason = Reason:
# To staff.
staff-interim-set = №{ $number }: new deadline { $deadline }. The message with the new date is on its way to the citizen; if it does not arrive, the bot will say so.
staff-interim-usage = To set a new deadline, reply to the card: /interim 5 — a number of working days (1 to { $most }), optionally followed by a reason for the citizen (under a comment everyone sees it).
staff-interim-closed = №{ $number } is closed: no new deadline set.
staff-interim-not-later = №{ $number }: that many working days ({ $deadline }) is not later than the current deadline ({ $current }); nothing changed, nothing was sent to the citizen.
digest-interim = Got an interim answer (a new deadline): { $count }
