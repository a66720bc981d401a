"""The JSON API's contract: the OpenAPI 3.1 document served at /api/v1/openapi.json, and the limits that
web/api.py enforces (defined here so the document and the code cannot disagree).

tests/web/test_openapi.py checks real responses against this document with openapi-core.
"""

from __future__ import annotations

from typing import Any

API_PREFIX = "/api/v1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_QUERY_LENGTH = 100
#: the accepted spellings of `upcoming`, and what each means
UPCOMING_VALUES = {"1": True, "true": True, "0": False, "false": False}

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(type_name: str, **rules: Any) -> Schema:
    return {"type": [type_name, "null"], **rules}


#: what a site's slug looks like: the sites themselves change at run time, so /api/v1/sites lists them
SLUG_PATTERN = "^[a-z0-9_-]{1,40}$"

MOMENT = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC, e.g. 2026-11-23T10:00:00Z"}

SCHEMAS: dict[str, Schema] = {
    "Contest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "site", "site_name", "key", "title", "url", "start", "end", "duration", "kind"],
        "properties": {
            "id": {"type": "integer", "description": "contestbell's own id"},
            "site": {"type": "string", "description": "the site's slug, as in /api/v1/sites"},
            "site_name": {"type": "string"},
            "key": {"type": "string", "description": "the site's own id of the contest, unique per site"},
            "title": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "start": MOMENT,
            "end": MOMENT,
            "duration": {"type": "integer", "minimum": 0, "description": "seconds"},
            "kind": nullable("string", description="the site's kind of contest (e.g. a division), when it says"),
        },
    },
    "ContestPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["contests", "next_cursor"],
        "properties": {
            "contests": {"type": "array", "items": ref("Contest"), "maxItems": MAX_LIMIT},
            "next_cursor": nullable("string", description="pass as `cursor` for the next page; null on the last"),
        },
    },
    "SiteHealth": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ok", "stale", "last_try", "last_success", "consecutive_failures", "last_error"],
        "properties": {
            "ok": {"type": "boolean", "description": "fetched recently and the last fetch succeeded"},
            "stale": {"type": "boolean", "description": "no successful fetch for 3 fetch intervals"},
            "last_try": nullable("string", format="date-time"),
            "last_success": nullable("string", format="date-time"),
            "consecutive_failures": {"type": "integer", "minimum": 0},
            "last_error": nullable("string"),
        },
    },
    "Site": {
        "type": "object",
        "additionalProperties": False,
        "required": ["slug", "name", "url", "popular", "source", "fetch_interval", "health"],
        "properties": {
            "slug": {"type": "string", "description": "the value of `site` in /api/v1/contests"},
            "name": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "popular": {"type": "boolean", "description": "one of the sites new accounts follow (listed first)"},
            "source": nullable("string", description="null for a site read on its own (a site module or an iCalendar "
                                                     "feed), else what reads it: \"clist\" for the clist.by upstream"),
            "fetch_interval": {"type": "integer", "minimum": 1, "description": "seconds between fetches"},
            "health": ref("SiteHealth"),
        },
    },
    "SiteList": {
        "type": "object",
        "additionalProperties": False,
        "required": ["sites"],
        "properties": {"sites": {"type": "array", "items": ref("Site")}},
    },
    "Me": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "timezone", "language", "sites", "reminders", "include", "exclude", "min_duration",
                     "max_duration", "paused", "telegram", "emails", "identities", "calendar_url", "digest",
                     "discord"],
        "properties": {
            "id": {"type": "integer"},
            "timezone": {"type": "string", "description": "an IANA zone (Europe/Berlin) or a fixed offset (UTC+03:00)"},
            "language": {"type": "string"},
            "sites": {"type": ["array", "null"], "items": {"type": "string"},
                      "description": "followed site slugs; null: the popular set"},
            "reminders": {"type": "array", "items": {"type": "integer"}, "description": "seconds before a start"},
            "include": {"type": "array", "items": {"type": "string"}},
            "exclude": {"type": "array", "items": {"type": "string"}},
            "min_duration": nullable("integer", description="seconds"),
            "max_duration": nullable("integer", description="seconds"),
            "paused": {"type": "boolean"},
            "telegram": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["chat_id", "type", "title"],
                "properties": {"chat_id": {"type": "integer"}, "type": {"type": "string"}, "title": nullable("string")},
            }},
            "emails": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["address", "verified"],
                "properties": {"address": {"type": "string"}, "verified": {"type": "boolean"}},
            }},
            "identities": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["provider", "subject", "email"],
                "properties": {"provider": {"type": "string"}, "subject": {"type": "string"},
                               "email": nullable("string")},
            }},
            "calendar_url": {"type": "string", "format": "uri", "description": "the personal iCal feed"},
            "digest": {"type": "string", "description": "the email digest as /digest takes it: \"daily 08:00\", "
                                                        "\"weekly mon 18:30\" or \"off\""},
            "discord": {"type": "boolean", "description": "whether reminders also go to a Discord webhook"},
        },
    },
    "Error": {
        "type": "object",
        "additionalProperties": False,
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["parameter", "message"],
                "properties": {
                    "parameter": nullable("string", description="the query parameter at fault"),
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def query(name: str, description: str, schema: Schema, **extra: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


#: text without control characters that is not only spaces (spaces around it are ignored)
READABLE_TEXT = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
#: the spaces of `\s` in READABLE_TEXT (JSON Schema's regular expressions are ECMAScript's), which the API strips:
#: Python's own str.strip() differs (it strips U+0085, keeps U+FEFF)
SPACES = "\t\n\v\f\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
SEARCH_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": READABLE_TEXT}

CONTEST_PARAMETERS = [
    # sites come and go at run time (clist.by, iCalendar feeds), so the slugs are no enum here: `x-listed-by` names
    # the operation whose answer lists the valid values (tests/schemathesis_hooks.py reads it)
    query("site", "Only these sites (repeat the parameter for several): slugs as /api/v1/sites lists them; a slug "
                  "that is not listed there is an error.",
          {"type": "array", "items": {"type": "string", "pattern": SLUG_PATTERN}}, style="form", explode=True,
          **{"x-listed-by": "listSites"}),
    query("from", "Only contests starting at or after this moment (ISO 8601 with a zone: Z or +03:00).",
          {"type": "string", "format": "date-time"}),
    # the rule between two parameters, which JSON Schema cannot say, is stated for tools as `x-later-than`
    query("to", "Only contests starting before this moment (ISO 8601 with a zone); must be later than `from`.",
          {"type": "string", "format": "date-time"}, **{"x-later-than": "from"}),
    query("q", "Only contests whose title contains this text, matched loosely: case, spaces and punctuation do not "
               "count (\"div 2\" finds \"Div. 2\"); no control characters, not only spaces.", SEARCH_TEXT),
    query("upcoming", "1 or true: only contests that have not ended yet (running ones included).",
          {"type": "string", "enum": list(UPCOMING_VALUES)}),
    query("limit", "Contests per page.",
          {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
    query("cursor", "`next_cursor` of the previous page (with the same filters); any other value is an error.",
          {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}, **{"x-issued-by": "next_cursor"}),
]

SITE_PARAMETERS = [
    query("q", "Only sites whose slug or name contains this text (case-insensitive); no control characters, not "
               "only spaces (spaces around it are ignored).", SEARCH_TEXT),
]

ETAG_HEADER = {"ETag": {"required": True, "schema": {"type": "string"},
                        "description": "send it back in If-None-Match to get 304 while nothing changed"}}


def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def ok(description: str, schema: Schema) -> Schema:
    return {"description": description, "headers": ETAG_HEADER, "content": json_content(schema)}


NOT_MODIFIED = {"description": "Not Modified: the ETag in If-None-Match is still current", "headers": ETAG_HEADER}
BAD_PARAMETER = {"description": "A query parameter is wrong; the error names it", "content": json_content(ref("Error"))}


def operation(operation_id: str, summary: str, responses: dict[str, Schema],
              parameters: list[Schema] | None = None) -> Schema:
    get = {"operationId": operation_id, "summary": summary, "parameters": parameters or [], "responses": responses}
    return {"get": get}


DOCUMENT: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "contestbell API",
        "version": "1.0.0",
        "description": ("Programming contests gathered from the contest sites, and how fresh each site's data is. "
                        "Times are ISO 8601 in UTC. Every GET is open to any origin (CORS) and carries an ETag."),
    },
    "paths": {
        f"{API_PREFIX}/contests": operation(
            "listContests",
            "Contests ordered by start, then site, then key; cancelled contests are left out.",
            {"200": ok("A page of contests", ref("ContestPage")), "304": NOT_MODIFIED, "400": BAD_PARAMETER},
            CONTEST_PARAMETERS,
        ),
        f"{API_PREFIX}/sites": operation(
            "listSites", "Every site one can pick, with its fetch interval and fetch health: the popular sites first, "
                         "then the others by name.",
            {"200": ok("The sites, popular first, then A–Z", ref("SiteList")), "304": NOT_MODIFIED,
             "400": BAD_PARAMETER},
            SITE_PARAMETERS,
        ),
        f"{API_PREFIX}/me": {"get": {
            "operationId": "me", "summary": "The signed-in person's account (sign in on the web site first).",
            "security": [{"session": []}], "parameters": [],
            "responses": {"200": {"description": "The account", "content": json_content(ref("Me"))},
                          "401": {"description": "Not signed in", "content": json_content(ref("Error"))}},
        }},
        f"{API_PREFIX}/openapi.json": operation(
            "openapiDocument", "This document.",
            {"200": ok("The OpenAPI document", {"type": "object"}), "304": NOT_MODIFIED},
        ),
    },
    "components": {"schemas": SCHEMAS, "securitySchemes": {
        "session": {"type": "apiKey", "in": "cookie", "name": "contestbell_session",
                    "description": "the session cookie the web site sets at sign-in"}}},
}
