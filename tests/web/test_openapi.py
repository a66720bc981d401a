"""The OpenAPI document served at /api/v1/openapi.json is a valid OpenAPI 3.1 document, and real answers of the
running app (200, 304 and 400 of every endpoint, with several filters) validate against it with openapi-core."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import DataValidationError
from openapi_spec_validator import validate

from fetchers.health import record_failure, record_success
from models.contest import Contest
from web.app import make_web_app
from web.openapi import DOCUMENT

pytestmark = pytest.mark.db

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    for i, site in enumerate(["codeforces", "atcoder", "leetcode", "codechef"] * 3):
        start = NOW + timedelta(hours=i - 2)
        await Contest.create(site_id=site, key=f"c{i}", title=f"Round {i} «Σ» <b>", url=f"https://example.org/{i}",
                             start=start, end=start + timedelta(hours=2), duration=7200,
                             kind="div2" if i % 2 else None)
    await record_success("codeforces", NOW)
    await record_failure("atcoder", NOW, "HTTP 503")
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


@pytest.fixture
async def openapi(client) -> OpenAPI:
    """The document as the app serves it (not the Python object), read by openapi-core."""
    return OpenAPI.from_dict(await (await client.get("/api/v1/openapi.json")).json())


async def exchange(client: TestClient, target: str, headers: dict[str, str] | None = None
                   ) -> tuple[MockRequest, MockResponse]:
    """One real request to the app, as openapi-core's request and response objects."""
    async with client.get(target, headers=headers) as answer:
        body = await answer.read()
        response = MockResponse(body, status_code=answer.status, headers=dict(answer.headers),
                                content_type=answer.content_type)
    address = urlsplit(str(client.make_url(target)))
    request = MockRequest(f"{address.scheme}://{address.netloc}", "get", address.path,
                          args=parse_qsl(address.query, keep_blank_values=True), headers=headers)
    return request, response


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_site_slugs_are_no_enum_the_sites_change_at_run_time():
    [site] = [p for p in DOCUMENT["paths"]["/api/v1/contests"]["get"]["parameters"] if p["name"] == "site"]
    assert "enum" not in json.dumps(site) and site["x-listed-by"] == "listSites"
    assert DOCUMENT["paths"]["/api/v1/sites"]["get"]["operationId"] == "listSites"


async def test_the_served_document_is_the_one_in_the_code(client):
    assert await (await client.get("/api/v1/openapi.json")).json() == DOCUMENT


@pytest.mark.parametrize("target", [
    "/api/v1/contests",
    "/api/v1/contests?upcoming=1",
    "/api/v1/contests?upcoming=false&limit=3",
    "/api/v1/contests?site=codeforces&site=atcoder&q=round",
    f"/api/v1/contests?from={NOW:%Y-%m-%dT%H:%M:%S}%2B03:00&to=2100-01-01T00:00:00Z",
    "/api/v1/contests?q=nothing-matches-this",
    "/api/v1/contests?unknown=ignored&limit=500",
    "/api/v1/sites",
    "/api/v1/sites?q=code",
    "/api/v1/openapi.json",
])
async def test_answers_match_the_document(client, openapi, target):
    request, response = await exchange(client, target)
    assert response.status_code == 200, response.data
    openapi.validate_request(request)
    openapi.validate_response(request, response)


async def test_every_page_of_a_cursor_walk_matches_the_document(client, openapi):
    target, pages = "/api/v1/contests?limit=5", 0
    while target:
        request, response = await exchange(client, target)
        openapi.validate_request(request)
        openapi.validate_response(request, response)
        cursor = json.loads(response.data)["next_cursor"]
        target, pages = (f"/api/v1/contests?limit=5&cursor={cursor}" if cursor else ""), pages + 1
    assert pages == 3


@pytest.mark.parametrize("target", [
    "/api/v1/contests?site=nowhere",
    "/api/v1/contests?from=2026-11-23T10:00:00",
    "/api/v1/contests?from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z",
    "/api/v1/contests?to=soon",
    "/api/v1/contests?q=",
    "/api/v1/contests?upcoming=maybe",
    "/api/v1/contests?limit=501",
    "/api/v1/contests?cursor=not-a-cursor",
    "/api/v1/sites?q=",
])
async def test_errors_match_the_document(client, openapi, target):
    request, response = await exchange(client, target)
    assert response.status_code == 400
    openapi.validate_response(request, response)


@pytest.mark.parametrize("path", ["/api/v1/contests?upcoming=1", "/api/v1/sites", "/api/v1/openapi.json"])
async def test_not_modified_matches_the_document(client, openapi, path):
    _request, first = await exchange(client, path)
    request, response = await exchange(client, path, {"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    openapi.validate_response(request, response)


async def test_the_document_catches_an_answer_that_differs(client, openapi):
    """The check above can fail: a contest with a field the document does not list is refused."""
    request, response = await exchange(client, "/api/v1/contests?limit=1")
    tampered = response.data.replace(b'"kind":', b'"surprise":1,"kind":')
    with pytest.raises(DataValidationError):
        openapi.validate_response(request, MockResponse(tampered, headers=dict(response.headers)))
