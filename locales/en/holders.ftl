## Taking a ticket («Take», /take) and passing it to a department («Department», /move), English.

staff-taken = №{ $number } taken by { $holder }.
staff-taken-over = №{ $number } taken by { $holder } (was: { $previous }).
staff-take-yours = №{ $number } is yours already.
staff-take-closed = №{ $number } is closed: nothing to take.
# The mention of the holder in a level-1 reminder; $holder is a link to them.
escalation-holder = Taken by: { $holder }
move-choose = №{ $number }: which department should it go to? Now: { $current }.
move-none = No departments are set up: every message comes to this chat. DEPARTMENTS_FILE sets them.
move-unknown = №{ $number }: there is no department “{ $wanted }”. Press «Department» under the card to choose from the list.
move-same = №{ $number } is with “{ $department }” already.
move-closed = №{ $number } is closed: nothing to pass on.
# Said under the old card, whose buttons are taken away.
move-done = №{ $number } passed to: { $department }. The card is there; a reply to this card still reaches the citizen.
# Heads the card re-posted where the ticket now belongs.
move-card-header = №{ $number } passed on from “{ $from }” ({ $by }).
# The staff chat's own share, when the ticket goes back to it.
department-general = the general staff chat
