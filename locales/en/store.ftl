## What the desk says in the staff chat about itself: the store and incoming updates.

# Incoming messages the desk tried for about an hour and could not handle; they are kept.
staff-intake-set-aside = { $count ->
    [one] { $count } incoming message
   *[other] { $count } incoming messages
} could not be handled (tried for about an hour): { $reason }. Nothing is lost, but until they are handled citizens get no acknowledgement and staff answers do not go out. Remove the cause and restart the bot: the messages will be handled again.
# A store file was created at this start: ticket numbers begin again.
staff-new-store = A new store was started at { $path }: numbering starts at №1. If the bot worked with another file before, check DATABASE_URL.
# Incoming updates the desk could not read at all (malformed, an unknown kind); kept in the inbox.
staff-intake-unreadable = { $count ->
    [one] { $count } incoming message
   *[other] { $count } incoming messages
} could not be read (malformed or of an unknown kind). { $count ->
    [1] It is kept in the bot's store (table inbox) with the reason; the citizen has not been acknowledged.
   *[other] They are kept in the bot's store (table inbox) with the reason; the citizens have not been acknowledged.
} Tell the bot's administrator.
# VK's long poll lost events it cannot give back (history gap); staff should look in VK itself.
staff-vk-events-missed = VK did not pass some events to the bot: messages and comments from { $since } to { $until } may not have reached it. Check the community's messages and comments of that time in VK and answer there.
staff-vk-events-missed-before = VK did not pass some events to the bot: messages and comments before { $until } may not have reached it. Check the community's messages and comments in VK and answer there.
