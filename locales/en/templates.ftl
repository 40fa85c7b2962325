## Canned answers, English: the administration's own, edited by the operator (LOCALES_DIR).
## Staff list them with /templates as a reply to a card and send one with /template 2.
## Each is a message whose key starts with "template-", in the order staff see them; .title
## is what the list shows. Placeholders: №{ $number } the ticket's number, { $name } the
## citizen's name as the platform gives it, { $date } today, { $deadline } the ticket's deadline.
## The text goes to the citizen as plain text, as if staff had typed it.

template-passed-on = Hello, { $name }! Your message №{ $number } has been passed on to the specialists. We will answer by { $deadline }.
    .title = Passed on to the specialists
template-address = Hello, { $name }! To look into your message №{ $number }, please tell us the exact address: street, house, entrance.
    .title = Ask for the address
template-not-ours = Hello, { $name }! The question in your message №{ $number } is for the management company of your building: its phone number is on your bill. If they cannot help, write to us again.
    .title = Not ours: the management company
template-done = Hello, { $name }! About your message №{ $number }: the work was done on { $date }. Thank you for letting us know.
    .title = Work done
