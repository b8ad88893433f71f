"""A small FHIR R4 server for tests: searchsets with paging (Bundle.link next), _lastUpdated,
a Slot's `start` search (ge/gt/le/lt), deletion, and switchable faults (slow answers, 500s,
malformed JSON, a bearer token it requires)."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

COMPARE = {"ge": lambda a, b: a >= b, "gt": lambda a, b: a > b,
           "le": lambda a, b: a <= b, "lt": lambda a, b: a < b}


class FhirServer:
    def __init__(self, page_size: int = 2):
        self.resources: dict[str, dict[str, dict[str, Any]]] = {}
        self.page_size = page_size
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.fault: str | None = None  # "500", "slow", "garbage"
        self.slow_seconds = 3.0
        self.token: str | None = None  # required bearer token, if set
        self.issued_tokens = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:  # the OAuth2 token endpoint
                length = int(self.headers.get("Content-Length", 0))
                body = parse_qs(self.rfile.read(length).decode())
                if urlparse(self.path).path != "/token" or body.get("grant_type") != ["client_credentials"]:
                    return self._send(400, {"error": "invalid_request"})
                server.issued_tokens += 1
                self._send(200, {"access_token": server.token, "token_type": "bearer", "expires_in": 3600})

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                rtype = url.path.rstrip("/").split("/")[-1]
                server.queries.append((rtype, query))
                if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, {"resourceType": "OperationOutcome"})
                if server.fault == "500":
                    return self._send(500, {"resourceType": "OperationOutcome"})
                if server.fault == "slow":
                    time.sleep(server.slow_seconds)
                if server.fault == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.end_headers()
                    self.wfile.write(b'{"resourceType": "Bundle", "entry": [')
                    return None
                items = list(server.resources.get(rtype, {}).values())
                since = next((v[2:] for v in query.get("_lastUpdated", []) if v.startswith("gt")), None)
                if since:
                    limit = datetime.fromisoformat(since)
                    items = [r for r in items if datetime.fromisoformat(r["meta"]["lastUpdated"]) > limit]
                if rtype == "Slot":
                    for bound in query.get("start", []):
                        test, moment = COMPARE[bound[:2]], datetime.fromisoformat(bound[2:])
                        items = [r for r in items if test(datetime.fromisoformat(r["start"]), moment)]
                page = int(query.get("_page", ["0"])[0])
                size = int(query.get("_count", [server.page_size])[0])
                size = min(size, server.page_size)
                chunk = items[page * size:(page + 1) * size]
                bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(items),
                                          "entry": [{"resource": r, "search": {"mode": "match"}} for r in chunk],
                                          "link": [{"relation": "self", "url": self.path}]}
                if (page + 1) * size < len(items):
                    nxt = {k: v for k, v in query.items() if k != "_page"} | {"_page": [str(page + 1)]}
                    bundle["link"].append({"relation": "next",
                                           "url": f"{server.url}/{rtype}?{urlencode(nxt, doseq=True)}"})
                return self._send(200, bundle)

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client left (a collector stopped mid-poll): nothing to tell it

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, resource: dict[str, Any], updated: datetime) -> None:
        resource = {**resource, "meta": {"lastUpdated": updated.isoformat()}}
        self.resources.setdefault(resource["resourceType"], {})[resource["id"]] = resource

    def delete(self, resource_type: str, rid: str) -> None:
        """As a FHIR DELETE: gone from every search, incremental ones included."""
        del self.resources[resource_type][rid]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
