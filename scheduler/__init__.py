"""The clock: APScheduler jobs that kick fetches (and, later, plan and dispatch reminders)."""
