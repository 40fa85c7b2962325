## Personal data: a citizen's request to remove their data (/forget, «удалить мои данные»).
## A ticket number is always written as №{ $number }; $numbers is a list of them.

forget-offer =
    You ask us to remove your personal data. From your messages { $numbers } the texts and attachments, your name, the link to your profile and your messenger id will be removed: closed ones at once, open ones as soon as work on them is complete. Only anonymous figures stay: number, date, department, answer time, rating.
    To confirm, press the button below (it is valid for a day).
forget-blocked = Your id stays only on the block list while the block stands: it is how messages from you are kept out.
forget-nothing = We have no messages of yours with personal data: there is nothing to remove. Service copies are removed by themselves after { $days } days.
forget-button = Confirm removal
forget-done = Done: your personal data was removed from messages { $numbers }.
forget-done-open = From messages { $numbers } it will be removed as soon as work on them is complete.
forget-done-none = Done: the data of your open messages { $numbers } will be removed as soon as work on them is complete.
forget-already = Your data was already removed at your request. If you write again, it will be a new message.
forget-expired = This button is out of date. To remove your data, send /forget (on VK: «удалить мои данные»).
forget-toast = Data removed
forget-staff = A citizen asked to remove their personal data (152-FZ, art. 21).
forget-staff-done = Anonymized: { $numbers }.
forget-staff-open = To be anonymized when closed: { $numbers }.
forget-staff-closed = The data of №{ $number } was anonymized at the citizen's request.
# Staff replied to the card of a ticket whose data was removed: nothing is sent or done.
staff-anonymized = The data of the author of message №{ $number } was removed (its term ran out, or they asked): they can no longer be answered or blocked. Nothing was sent.
