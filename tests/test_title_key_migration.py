"""Migration 0007 (contest title keys) on a database that already holds contests, on PostgreSQL or SQLite: every
existing contest gets the key its title matches keywords by, Cyrillic included, and `/filter`'s keywords find them
from then on."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate as run_migrations

from models.contest import Contest
from models.db import database, migrate, tortoise_config
from models.selection import ContestFilter, upcoming

TITLES = {
    "1": "Codeforces Round 999 (Div. 2)",
    "2": "Educational Codeforces Round 170 (Rated for Div. 2)",
    "3": "Codeforces Round 1000 (Div. 1)",
    "4": "Отборочный раунд ВКОШП — Тур 2",
}
BEFORE_0007 = "INSERT INTO site (slug, name, url, every_seconds, consecutive_failures, listed) VALUES " \
              "('codeforces', 'Codeforces', 'https://codeforces.com', 600, 0, true);\n" + "".join(
    "INSERT INTO contest (site_id, key, title, url, start, \"end\", duration, cancelled, misses, created_at, "
    f"updated_at) VALUES ('codeforces', '{key}', '{title}', 'https://codeforces.com/contest/{key}', "
    "'2030-01-01 10:00:00+00:00', '2030-01-01 12:00:00+00:00', 7200, false, 0, CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP);\n" for key, title in TITLES.items())


async def test_existing_contests_get_their_title_keys(db_url):
    await run_migrations(config=tortoise_config(db_url), target="models.0006_fetch_settings")
    try:
        await connections.get("default").execute_script(BEFORE_0007)
    finally:
        await Tortoise.close_connections()

    await migrate(db_url)
    async with database(db_url, apply_migrations=False):
        keys = dict(await Contest.all().values_list("key", "title_key"))
        assert keys == {"1": "codeforcesround999div2", "2": "educationalcodeforcesround170ratedfordiv2",
                        "3": "codeforcesround1000div1", "4": "отборочныйраундвкошптур2"}
        now = datetime(2029, 1, 1, tzinfo=UTC)
        found = await upcoming(ContestFilter(include=("DIV-2",)), now).values_list("key", flat=True)
        assert sorted(found) == ["1", "2"]
        found = await upcoming(ContestFilter(include=("тур 2",)), now).values_list("key", flat=True)
        assert found == ["4"]

        # ingest's upsert still finds the unique (site, key), and a renamed contest's key follows its title
        renamed = Contest(site_id="codeforces", key="1", title="Codeforces Round 999 (Div. 1)", url="https://x",
                          start=now, end=now, duration=7200)
        await Contest.bulk_create([renamed], on_conflict=["site_id", "key"], update_fields=["title"])
        assert await Contest.filter(key="1").values_list("title_key", flat=True) == ["codeforcesround999div1"]
        assert await Contest.all().count() == 4
