"""The FHIR R4 REST client: the one module that talks to the patient system.

Searches follow Bundle.link "next" pages; a bearer token comes from an environment variable
or from an OAuth2 client-credentials grant; each request has a timeout, failures are retried
with exponential backoff and jitter, and a circuit breaker stops hammering a server that is
down (it is tried again after a cool-down). Every failure becomes SourceUnavailable or
InvalidData, the collector contract's two errors.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from collectors.base import InvalidData, SourceUnavailable

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"


@dataclass
class Breaker:
    """Opens after `threshold` consecutive failures; while open, calls fail at once; after
    `cooldown` seconds one trial call is let through."""

    threshold: int = 5
    cooldown: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    clock: Callable[[], float] = time.monotonic

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        return self.clock() - self.opened_at >= self.cooldown

    def success(self) -> None:
        self.failures, self.opened_at = 0, None

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.clock()


@dataclass
class Auth:
    token: str | None = None  # a static bearer token (from token_env)
    token_url: str | None = None  # OAuth2 client credentials
    client_id: str | None = None
    client_secret: str | None = None
    _cached: tuple[str, float] | None = field(default=None, repr=False)

    def header(self, http: httpx.Client) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if not self.token_url:
            return {}
        if self._cached and self._cached[1] > time.monotonic() + 30:
            return {"Authorization": f"Bearer {self._cached[0]}"}
        response = http.post(self.token_url, data={"grant_type": "client_credentials"},
                             auth=(self.client_id or "", self.client_secret or ""))
        if response.status_code != 200:
            raise SourceUnavailable(f"token endpoint answered {response.status_code}")
        body = response.json()
        self._cached = (body["access_token"], time.monotonic() + float(body.get("expires_in", 300)))
        return {"Authorization": f"Bearer {self._cached[0]}"}


class FhirClient:
    def __init__(self, base_url: str, auth: Auth | None = None, *, timeout: float = 10.0,
                 retries: int = 2, backoff: float = 0.5, breaker: Breaker | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.base = base_url.rstrip("/") + "/"
        self.auth = auth or Auth()
        self.retries, self.backoff = retries, backoff
        self.breaker = breaker or Breaker()
        self.http = httpx.Client(timeout=timeout, transport=transport,
                                 headers={"Accept": FHIR_JSON}, follow_redirects=True)

    def close(self) -> None:
        self.http.close()

    def search(self, resource_type: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every resource of a search, page after page (Bundle.link "next")."""
        url: str | None = self.base + resource_type
        query: dict[str, Any] | None = params
        pages = 0
        while url:
            bundle = self._get(url, query)
            pages += 1
            if bundle.get("resourceType") != "Bundle":
                raise InvalidData(f"{resource_type} search answered a {bundle.get('resourceType')!r}, not a Bundle")
            for entry in bundle.get("entry") or []:  # matches and _include'd resources alike
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict):
                    yield resource
            url = next((link.get("url") for link in bundle.get("link") or []
                        if isinstance(link, dict) and link.get("relation") == "next"), None)
            query = None  # the next link carries its own query
            if pages > 10_000:
                raise InvalidData(f"{resource_type} search did not end after 10,000 pages")

    def _get(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        if not self.breaker.allow():
            raise SourceUnavailable("circuit open after repeated failures; waiting before the next try")
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
            try:
                response = self.http.get(url, params=params, headers=self.auth.header(self.http))
            except httpx.HTTPError as err:
                last = SourceUnavailable(f"{type(err).__name__}: {err}")
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = SourceUnavailable(f"{url} answered {response.status_code}")
                continue
            if response.status_code >= 400:
                self.breaker.failure()
                raise SourceUnavailable(f"{url} answered {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                self.breaker.failure()
                raise InvalidData(f"{url} answered something that is not JSON") from None
            if not isinstance(body, dict):
                raise InvalidData(f"{url} answered JSON that is not a resource")
            self.breaker.success()
            return body
        self.breaker.failure()
        assert last is not None
        raise last
