## What the desk tells staff at start when the bot cannot see everything it should.

startup-staff-privacy =
    Attention: the bot is not an administrator of this chat and its privacy mode is on. It sees only replies to its own messages and commands addressed to it (/queue@bot_name).
    For the bot to see every staff message, make it an administrator of the chat or turn its privacy mode off in @BotFather (/setprivacy → Disable).
startup-discussion-privacy =
    Attention: the bot does not see comments under the channel's posts. It is not an administrator of the discussion group and its privacy mode is on, so citizens' comments do not reach staff.
    Make the bot an administrator of the discussion group or turn its privacy mode off in @BotFather (/setprivacy → Disable).
startup-vk-comments-off =
    Attention: the VK community's Long Poll API settings have wall comment events off, so comments under posts do not reach staff.
    Turn on the event types "new comment", "comment edited" and "comment deleted" (Manage → API usage → Long Poll API).
