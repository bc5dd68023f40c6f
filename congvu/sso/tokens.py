"""Writing the rows of newly issued tokens by hand (issue 5): the ID token, the access
and refresh tokens, their links to the SSO session, the client noted in the session
(single sign-out) and, for a code exchange, the redeemed code. Used by the hand-written
refresh grant (``refresh.py``) and by the code exchange (``validator.py``).

Each write is conditional on a *guard*, the statement that makes the exchange happen
once: revoking the refresh token presented, or deleting the authorization code. If the
guard matches no row (another request got there first, or the session ended) nothing is
written. On PostgreSQL the guard, the rows depending on it and every insert are one
statement (data-modifying CTEs, each reading the previous one's RETURNING; foreign keys
are checked at commit, Django makes them deferrable); elsewhere the same statements run
one after the other in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from oauth2_provider.models import AccessToken, IDToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from congvu.sso import sql
from congvu.sso.models import RedeemedCode, SessionClient, TokenSession

#: On PostgreSQL, everything in one statement (tests also run the step by step version).
SINGLE_STATEMENT = True


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[models.Model], name: str) -> str:
    found: Any = model._meta.get_field(name)
    return connection.ops.quote_name(found.column)


def checksum(value: str) -> str:
    """How django-oauth-toolkit finds a token (its ``token_checksum`` column)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass
class Guard:
    """``statement`` (an UPDATE or DELETE ... RETURNING the row's id) must match a row
    for anything to be written; ``then``: statements ending in a WHERE clause (so the
    single statement can add "and the guard matched"), or callables, run after it."""

    statement: str
    params: list[Any]
    then: list[tuple[str, list[Any]] | Callable[[], object]] = field(default_factory=list)


@dataclass
class Issued:
    """Column values of the new rows, by attname; the writer fills in the ids of the
    rows it creates (id_token_id, access_token_id, refresh_token_id)."""

    id_token: dict[str, Any] | None
    access: dict[str, Any]
    refresh: dict[str, Any]
    session_id: int
    client: dict[str, Any]
    redeemed: dict[str, Any] | None = None


def write(guard: Guard, issued: Issued) -> tuple[int, int] | None:
    """The new access and refresh tokens' ids, or None (the guard matched nothing)."""
    if sql.is_postgresql() and SINGLE_STATEMENT and not any(callable(t) for t in guard.then):
        return _single(guard, issued)
    return _steps(guard, issued)


def _field_index(model: type[models.Model], name: str) -> int:
    found: Any = model._meta.get_field(name)
    return [f.attname for f in sql.insert_fields(model)].index(found.attname)


def _token_session_columns() -> str:
    return ", ".join(column(TokenSession, n) for n in ("session", "access_token", "refresh_token"))


def _upsert_client(source: str) -> str:
    """``actions.note_client`` in SQL (the same upsert on the unique constraint)."""
    last_at = column(SessionClient, "last_at")
    return (f"INSERT INTO {table(SessionClient)} ({sql.columns(SessionClient)}) {source} "
            f"ON CONFLICT ({column(SessionClient, 'session')}, "
            f"{column(SessionClient, 'application')}) "
            f"DO UPDATE SET {last_at} = EXCLUDED.{last_at}")


def _insert(model: type[models.Model]) -> str:
    placeholders = ", ".join(["%s"] * len(sql.insert_fields(model)))
    return (f"INSERT INTO {table(model)} ({sql.columns(model)}) "  # noqa: S608 (from _meta)
            f"VALUES ({placeholders}) RETURNING {column(model, 'id')}")


_statements: dict[tuple[Any, ...], str] = {}


def _then(guard: Guard) -> list[tuple[str, list[Any]]]:
    """The guard's follow-up statements (``write`` sends callables to ``_steps``)."""
    return [then for then in guard.then if not callable(then)]


def _single_sql(guard: Guard, issued: Issued) -> str:
    key = (guard.statement, tuple(s for s, _p in _then(guard)),
           issued.id_token is not None, issued.redeemed is not None)
    found = _statements.get(key)
    if found is not None:
        return found
    matched = " AND EXISTS (SELECT 1 FROM g)"
    ctes = [f"g AS ({guard.statement})"]
    ctes += [f"d{i} AS ({statement}{matched})"
             for i, (statement, _p) in enumerate(_then(guard))]
    source = "g"
    access = ["%s"] * len(sql.insert_fields(AccessToken))
    if issued.id_token is not None:
        ctes.append(f"i AS (INSERT INTO {table(IDToken)} ({sql.columns(IDToken)}) "  # noqa: S608
                    f"SELECT {sql.casts(IDToken)} FROM g RETURNING {column(IDToken, 'id')})")
        access[_field_index(AccessToken, "id_token")] = "i.id"
        source = "i"
    ctes.append(f"a AS (INSERT INTO {table(AccessToken)} ({sql.columns(AccessToken)}) "  # noqa: S608
                f"SELECT {sql.casts(AccessToken, access)} FROM {source} "
                f"RETURNING {column(AccessToken, 'id')})")
    refresh = ["%s"] * len(sql.insert_fields(RefreshToken))
    refresh[_field_index(RefreshToken, "access_token")] = "a.id"
    ctes.append(f"n AS (INSERT INTO {table(RefreshToken)} ({sql.columns(RefreshToken)}) "  # noqa: S608
                f"SELECT {sql.casts(RefreshToken, refresh)} FROM a "
                f"RETURNING {column(RefreshToken, 'id')})")
    ctes.append(f"t AS (INSERT INTO {table(TokenSession)} ({_token_session_columns()}) "  # noqa: S608
                "SELECT CAST(%s AS bigint), a.id, NULL FROM a "
                "UNION ALL SELECT CAST(%s AS bigint), NULL, n.id FROM n)")
    client = f"SELECT {sql.casts(SessionClient)} FROM n"  # noqa: S608
    ctes.append(f"c AS ({_upsert_client(client)})")
    if issued.redeemed is not None:
        redeemed = ["%s"] * len(sql.insert_fields(RedeemedCode))
        redeemed[_field_index(RedeemedCode, "access_token")] = "a.id"
        redeemed[_field_index(RedeemedCode, "refresh_token")] = "n.id"
        ctes.append(f"r AS (INSERT INTO {table(RedeemedCode)} ({sql.columns(RedeemedCode)}) "  # noqa: S608
                    f"SELECT {sql.casts(RedeemedCode, redeemed)} FROM a, n)")
    found = "WITH " + ",\n".join(ctes) + "\nSELECT a.id, n.id FROM a, n"
    _statements[key] = found
    return found


def _without(params: list[Any], model: type[models.Model], *names: str) -> list[Any]:
    """``params`` of ``model``'s insert minus the columns the statement fills itself."""
    drop = {_field_index(model, n) for n in names}
    return [p for i, p in enumerate(params) if i not in drop]


def _single(guard: Guard, issued: Issued) -> tuple[int, int] | None:
    params = list(guard.params)
    for _statement, more in _then(guard):
        params += more
    if issued.id_token is not None:
        params += sql.db_params(IDToken, issued.id_token)
        params += _without(sql.db_params(AccessToken, issued.access), AccessToken, "id_token")
    else:
        params += sql.db_params(AccessToken, issued.access)
    params += _without(sql.db_params(RefreshToken, issued.refresh), RefreshToken,
                       "access_token")
    params += [issued.session_id, issued.session_id]
    params += sql.db_params(SessionClient, issued.client)
    if issued.redeemed is not None:
        params += _without(sql.db_params(RedeemedCode, issued.redeemed), RedeemedCode,
                           "access_token", "refresh_token")
    with sql.cursor() as cur:
        cur.execute(_single_sql(guard, issued), params)
        row = cur.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def _steps(guard: Guard, issued: Issued) -> tuple[int, int] | None:
    with sql.cursor() as cur:
        cur.execute(guard.statement, guard.params)
        if cur.fetchone() is None:
            return None
        for then in guard.then:
            if callable(then):
                then()
            else:
                cur.execute(*then)
        access = dict(issued.access)
        if issued.id_token is not None:
            cur.execute(_insert(IDToken), sql.db_params(IDToken, issued.id_token))
            access["id_token_id"] = cur.fetchone()[0]
        cur.execute(_insert(AccessToken), sql.db_params(AccessToken, access))
        access_id = int(cur.fetchone()[0])
        cur.execute(_insert(RefreshToken), sql.db_params(
            RefreshToken, {**issued.refresh, "access_token_id": access_id}))
        refresh_id = int(cur.fetchone()[0])
        cur.execute(f"INSERT INTO {table(TokenSession)} ({_token_session_columns()}) "  # noqa: S608
                    "VALUES (%s, %s, NULL), (%s, NULL, %s)",
                    [issued.session_id, access_id, issued.session_id, refresh_id])
        placeholders = ", ".join(["%s"] * len(sql.insert_fields(SessionClient)))
        cur.execute(_upsert_client(f"VALUES ({placeholders})"),
                    sql.db_params(SessionClient, issued.client))
        if issued.redeemed is not None:
            cur.execute(_insert(RedeemedCode), sql.db_params(RedeemedCode, {
                **issued.redeemed, "access_token_id": access_id,
                "refresh_token_id": refresh_id}))
    return access_id, refresh_id


def rows(*, now: dt.datetime, user_id: int, application_id: int, access_token: str,
         refresh_token: str, scope: str, expires: dt.datetime, token_family: Any,
         source_refresh_token_id: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The access and refresh token rows as django-oauth-toolkit's
    ``_create_access_token`` and ``_create_refresh_token`` make them (no RFC 8707
    resources: this writer is used only without them)."""
    plain = not oauth2_settings.COMPLIANT_BCP_RFC9700_TOKEN_STORAGE  # else redacted at rest
    access: dict[str, Any] = {
        "user_id": user_id, "source_refresh_token_id": source_refresh_token_id,
        "token": access_token if plain else "", "token_checksum": checksum(access_token),
        "id_token_id": None, "application_id": application_id, "expires": expires,
        "scope": scope, "resource": [], "created": now, "updated": now}
    refresh: dict[str, Any] = {
        "user_id": user_id, "token": refresh_token if plain else "",
        "token_checksum": checksum(refresh_token), "application_id": application_id,
        "access_token_id": None, "token_family": token_family, "resource": [],
        "created": now, "updated": now, "revoked": None}
    return access, refresh
