"""The VK adapter as the application starts it: one API client, the poller, the deliverer."""

from __future__ import annotations

from bot.files import FetchFile
from bot.settings import Settings
from bot.vk.client import make_api
from bot.vk.delivery import VKDelivery
from bot.vk.polling import VKPoller
from handlers.desk import FrontDesk
from handlers.texts import Texts
from storage.base import Store


class VKAdapter:
    """Everything VK: built without I/O, closed by the application on stop."""

    def __init__(
        self, settings: Settings, store: Store, desk: FrontDesk, texts: Texts,
        fetch_telegram_file: FetchFile,
    ) -> None:
        assert settings.vk_group_id is not None
        group_id = abs(settings.vk_group_id)  # written as -123456 too, the way VK shows owners
        self.api, self.http = make_api(settings.vk_token.get_secret_value(), settings.vk_api_url)
        self.poller = VKPoller(self.api, desk, store, group_id)
        self.delivery = VKDelivery(self.api, store, group_id, fetch_telegram_file, texts)

    def stop(self) -> None:
        """Stop intake; what is being fetched stays at VK for the next start."""
        self.poller.stop()

    async def close(self) -> None:
        await self.http.close()
