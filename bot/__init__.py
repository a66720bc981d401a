"""aiogram routers, one per bot feature, with keyboards and middlewares: the Telegram bot issue."""
