"""A small OpenID Connect provider of our own, speaking the real protocol over HTTP, for the
tests: discovery, an authorization endpoint that signs in a configured person at once (as
if they had typed their password), a token endpoint that checks the client secret, the
redirect URI and the PKCE verifier and returns an RS256-signed ID token, and its keys."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import free_port


class Provider:
    def __init__(self, client_id: str, client_secret: str):
        self.client_id, self.client_secret = client_id, client_secret
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.person: dict[str, Any] = {}  # the claims of whoever "signs in" next
        self.codes: dict[str, dict[str, Any]] = {}
        self.forge = False  # sign the next ID token with a key nobody published
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": provider.issuer,
                                     "authorization_endpoint": f"{provider.issuer}/authorize",
                                     "token_endpoint": f"{provider.issuer}/token",
                                     "jwks_uri": f"{provider.issuer}/jwks",
                                     "response_types_supported": ["code"],
                                     "id_token_signing_alg_values_supported": ["RS256"],
                                     "code_challenge_methods_supported": ["S256"]})
                elif url.path == "/jwks":
                    self.reply(200, {"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    if q.get("client_id") != provider.client_id or q.get("code_challenge_method") != "S256":
                        self.reply(400, {"error": "invalid_request"})
                        return
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {**q, "claims": dict(provider.person)}
                    target = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                grant = provider.codes.pop(form.get("code", ""), None)
                if (self.path != "/token" or grant is None or form.get("client_secret") != provider.client_secret
                        or form.get("redirect_uri") != grant["redirect_uri"]):
                    self.reply(400, {"error": "invalid_grant"})
                    return
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if challenge != grant["code_challenge"]:
                    self.reply(400, {"error": "invalid_grant", "error_description": "PKCE"})
                    return
                now = int(time.time())
                claims = {"iss": provider.issuer, "aud": provider.client_id, "iat": now, "exp": now + 300,
                          "nonce": grant["nonce"], **grant["claims"]}
                key = RSAKey.generate_key(2048, private=True) if provider.forge else provider.key
                token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
                self.reply(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                 "expires_in": 300, "id_token": token})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
