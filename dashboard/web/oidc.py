"""Sign-in through the wellbeing area's identity provider (OpenID Connect, authorization
code flow with PKCE), as an option beside local accounts (`[auth.oidc]`).

The provider is found from its discovery document; the ID token is checked with joserfc
(the JOSE library of authlib's authors, which authlib.jose now defers to) against the provider's published keys (signature, issuer, audience, expiry, nonce). The
person's role comes from a claim (`roles_claim`) through `role_map` — a person with no
mapped role is refused — and their units from `units_claim` where given. The state, nonce
and PKCE verifier of a sign-in under way wait in the live store for ten minutes and can be
used once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
import urllib.parse
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dashboard.config import Config, OidcSettings
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.web.accounts import Role, User, upsert_oidc_user

RANK: dict[str, int] = {"shift_lead": 1, "manager": 2, "admin": 3}


class OidcError(Exception):
    """Why a sign-in through the identity provider was refused, in Finnish."""


class Oidc:
    def __init__(self, settings: OidcSettings, config: Config, store: LiveStore, history: History):
        self.s, self.config, self.store, self.history = settings, config, store, history
        self._meta: tuple[dict[str, Any], float] | None = None

    def metadata(self) -> dict[str, Any]:
        if self._meta and self._meta[1] > time.monotonic():
            return self._meta[0]
        url = self.s.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            meta: dict[str, Any] = httpx.get(url, timeout=10).raise_for_status().json()
        except (httpx.HTTPError, ValueError) as err:
            raise OidcError(f"Tunnistuspalvelu ei vastaa ({url}): {err}") from None
        self._meta = (meta, time.monotonic() + 3600)
        return meta

    def begin(self, redirect_uri: str, target: str) -> str:
        """The provider's address to send the browser to."""
        state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
        self.store.put_oidc_state(state, {"nonce": nonce, "verifier": verifier, "next": target,
                                          "redirect_uri": redirect_uri})
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": self.s.client_id, "redirect_uri": redirect_uri,
            "scope": self.s.scope, "state": state, "nonce": nonce,
            "code_challenge": challenge, "code_challenge_method": "S256"})
        return f"{self.metadata()['authorization_endpoint']}?{query}"

    def finish(self, code: str, state: str) -> tuple[User, str]:
        """The signed-in person and where they were going; OidcError if anything is off."""
        pending = self.store.pop_oidc_state(state)
        if not pending:
            raise OidcError("Kirjautuminen on vanhentunut tai jo käytetty: aloita uudelleen.")
        meta = self.metadata()
        secret = os.environ.get(self.s.client_secret_env, "")
        try:
            answer = httpx.post(meta["token_endpoint"], timeout=10, data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": pending["redirect_uri"],
                "client_id": self.s.client_id, "client_secret": secret, "code_verifier": pending["verifier"]})
            answer.raise_for_status()
            id_token = answer.json()["id_token"]
            keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).raise_for_status().json())
        except (httpx.HTTPError, ValueError, KeyError) as err:
            raise OidcError(f"Tunnistuspalvelu ei antanut tunnistetta: {err}") from None
        try:
            claims = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"]).claims
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": meta.get("issuer", self.s.issuer)},
                aud={"essential": True, "value": self.s.client_id},
                exp={"essential": True}, sub={"essential": True},
                nonce={"essential": True, "value": pending["nonce"]}, leeway=60).validate(claims)
        except (JoseError, ValueError) as err:
            raise OidcError(f"Tunnistuspalvelun tunniste ei kelpaa: {err}") from None
        granted = claims.get(self.s.roles_claim) or []
        granted = [granted] if isinstance(granted, str) else list(granted)
        roles = [self.s.role_map[g] for g in granted if g in self.s.role_map]
        name = str(claims.get(self.s.name_claim) or claims["sub"])
        if not roles:
            raise OidcError(f"Käyttäjällä {name} ei ole Ohjaustaulun roolia tunnistuspalvelussa.")
        role: Role = max(roles, key=lambda r: RANK[r])
        codes = {u.code for u in self.config.units}

        def listed(claim: str | None) -> list[str]:
            value = claims.get(claim) if claim else None
            return [value] if isinstance(value, str) else [str(v) for v in value or []]

        units = self.config.scope_units(listed(self.s.sites_claim), [u for u in listed(self.s.units_claim) if u in codes])
        if (self.s.units_claim or self.s.sites_claim) and not units and role != "admin":
            # the provider scopes people by unit or site and this one has none of ours: an
            # empty scope is nothing, never "every unit"
            raise OidcError(f"Käyttäjällä {name} ei ole Ohjaustaulun yksiköitä tai toimipisteitä tunnistuspalvelussa.")
        # a person whose role or units the provider changed starts afresh: their older
        # sessions end (they were given what no longer holds)
        user = upsert_oidc_user(self.history, str(claims["sub"]), name, role, units,
                                on_change=self.store.end_sessions)
        return user, pending["next"]
