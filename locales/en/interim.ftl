## Interim answers, English: staff give a new date when the answer takes longer.

# To the citizen (plain text); staff's reason, if given, follows on its own line after the label.
interim-citizen = We are still working on your message №{ $number }: the answer takes longer. We will answer by { $deadline }.
interim-reason = Reason:
# To staff.
staff-interim-set = №{ $number }: new deadline { $deadline }. The citizen has been told.
staff-interim-usage = To set a new deadline, reply to the card: /interim 5 — a number of working days (1 to { $most }), optionally followed by a reason for the citizen.
staff-interim-closed = №{ $number } is closed: no new deadline set.
digest-interim = Interim answers (new deadline): { $count }
