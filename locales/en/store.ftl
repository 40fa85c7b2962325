## What the desk says in the staff chat about itself: the store and incoming updates.

# Incoming messages the desk tried for about an hour and could not handle; they are kept.
staff-intake-set-aside = { $count ->
    [one] { $count } incoming message
   *[other] { $count } incoming messages
} could not be handled (tried for about an hour): { $reason }. They are kept; the citizens have not been acknowledged yet. Remove the cause and restart the bot: the messages will be handled again.
# A store file was created at this start: ticket numbers begin again.
staff-new-store = A new store was started at { $path }: numbering starts at №1. If the bot worked with another file before, check DATABASE_URL.
