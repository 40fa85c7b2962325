## Buttons under staff-side messages, English: each one sends the command it names.

# Under a ticket's card.
button-take = Take
# «Take» once someone has taken the ticket: who holds it.
button-held = ✋ { $name }
button-move = Department
button-templates = Template
button-interim = Deadline
button-close = Close
button-block = Block
# Under an incident suggestion, and under an open incident's card.
button-merge = Merge
button-apart = Different
button-close-incident = Close all
button-not-incident = Not this
# Under the /interim usage notice: a new deadline this many working days ahead.
button-interim-days = { $days } d.
# Alerts on a press that does nothing.
button-not-staff = You are not on the list of staff who answer citizens (STAFF_USER_IDS): buttons do not work for you. Ask the bot's administrator to add your id (find it with /id).
button-refused = This button does nothing: press a button under a message's card in the staff chat.
