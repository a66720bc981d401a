"""Delivery channels (Telegram sender, SMTP sender, rate limits, message rendering): the reminders issue."""
