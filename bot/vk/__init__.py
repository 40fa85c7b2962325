"""The VK adapter: Bots Long Poll into the inbox, the outbox out through the VK API."""
