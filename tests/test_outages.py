"""What keeps screens up while a server is away, in small: a display token known to be valid
is accepted while the history database cannot be asked; one never seen is not."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import create_engine

from dashboard.config import Config
from dashboard.web.accounts import new_display_token, revoke_display_tokens
from dashboard.web.auth import Auth
from tests.conftest import Backend

pytestmark = pytest.mark.store


def test_a_screens_token_is_accepted_while_the_database_is_away(backend: Backend, config: Config):
    token = new_display_token(backend.history, "aula")
    assert Auth(config, backend.store, backend.history).display_for(token) == "aula"
    away = copy.copy(backend.history)  # the same database, now unreachable (nothing on port 1)
    away.engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test",
                                connect_args={"connect_timeout": 2})
    # a web worker that started after the database went away has not seen the token itself
    assert Auth(config, backend.store, away).display_for(token) == "aula"
    assert Auth(config, backend.store, away).display_for("never-issued") is None
    # revoked (with the database there): forgotten, also for the next outage
    revoke_display_tokens(backend.history, "aula")
    assert Auth(config, backend.store, backend.history).display_for(token) is None
    assert Auth(config, backend.store, away).display_for(token) is None
