"""Bearer tokens: issued at login, looked up on every authenticated request, revoked at
logout. The web UI's cookie session can hold one of these tokens just the same.

A token is 256 random bits; only its SHA-256 is stored, so a leaked database holds no
usable credentials. A fast hash is right here (unlike for passwords): the secret has
far too much entropy to guess, and it is checked on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from api.db import TOKENS, USERS, Database
from api.users import User
from sensr.frames import now_us

TOKEN_PREFIX = "sensr_"  # lets secret scanners and people recognise a leaked token
_DAY_US = 86_400_000_000
ID_LENGTH = 16


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_us: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A live token as its owner sees it: never the token, only an id derived from its hash."""

    id: str
    kind: str
    """`api` (POST /api/v1/tokens) or `session` (a browser's login)."""
    created_us: int
    expires_us: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(hash_: str) -> str:
    """A token's public id: the start of its hash (which is of 256 random bits, so it tells
    nothing about the token), enough to tell a user's tokens apart."""
    return hash_[:ID_LENGTH]


class TokenService:
    def __init__(self, db: Database, lifetime_days: int) -> None:
        self._db = db
        self._lifetime_us = lifetime_days * _DAY_US

    def issue(self, user: User, kind: str = "api") -> IssuedToken:
        """A new token for `user`; the plain token exists only in the returned value.
        Expired tokens of the user are removed on the way."""
        now = now_us()
        issued = IssuedToken(TOKEN_PREFIX + secrets.token_urlsafe(32), now + self._lifetime_us)
        with self._db.write() as conn:
            conn.execute(sa.delete(TOKENS).where(TOKENS.c.user_id == user.id, TOKENS.c.expires_us <= now))
            conn.execute(sa.insert(TOKENS).values(token_hash=token_hash(issued.token), user_id=user.id,
                                                  created_us=now, expires_us=issued.expires_us, kind=kind))
        return issued

    def user_for(self, token: str) -> User | None:
        """The user a valid, unexpired token belongs to, else None."""
        query = (sa.select(USERS.c.id, USERS.c.email, USERS.c.created_us, USERS.c.time_zone)
                 .join(TOKENS, TOKENS.c.user_id == USERS.c.id)
                 .where(TOKENS.c.token_hash == token_hash(token), TOKENS.c.expires_us > now_us()))
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else User(id=row.id, email=row.email, created_us=row.created_us,
                                              time_zone=row.time_zone)

    def revoke(self, token: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(TOKENS).where(TOKENS.c.token_hash == token_hash(token)))

    def of_user(self, user: User) -> list[TokenInfo]:
        """The user's live tokens, newest first."""
        query = (sa.select(TOKENS).where(TOKENS.c.user_id == user.id, TOKENS.c.expires_us > now_us())
                 .order_by(TOKENS.c.created_us.desc()))
        with self._db.read() as conn:
            return [TokenInfo(id=token_id(row.token_hash), kind=row.kind, created_us=row.created_us,
                              expires_us=row.expires_us) for row in conn.execute(query)]

    def revoke_id(self, user: User, id_: str) -> bool:
        """Revoke the user's token whose id (`TokenInfo.id`) is `id_`; False if none is."""
        delete = sa.delete(TOKENS).where(TOKENS.c.user_id == user.id,
                                         TOKENS.c.token_hash.startswith(id_, autoescape=True))
        with self._db.write() as conn:
            return len(id_) == ID_LENGTH and conn.execute(delete).rowcount > 0

    def revoke_all(self, user: User, keep: str | None = None) -> int:
        """Revoke every token of the user but `keep` (the caller's own, when it stays signed
        in); returns how many went. Sessions end too: they hold tokens."""
        delete = sa.delete(TOKENS).where(TOKENS.c.user_id == user.id)
        if keep is not None:
            delete = delete.where(TOKENS.c.token_hash != token_hash(keep))
        with self._db.write() as conn:
            return int(conn.execute(delete).rowcount)

