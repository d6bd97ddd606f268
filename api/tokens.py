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


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_us: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, db: Database, lifetime_days: int) -> None:
        self._db = db
        self._lifetime_us = lifetime_days * _DAY_US

    def issue(self, user: User) -> IssuedToken:
        """A new token for `user`; the plain token exists only in the returned value.
        Expired tokens of the user are removed on the way."""
        now = now_us()
        issued = IssuedToken(TOKEN_PREFIX + secrets.token_urlsafe(32), now + self._lifetime_us)
        with self._db.write() as conn:
            conn.execute(sa.delete(TOKENS).where(TOKENS.c.user_id == user.id, TOKENS.c.expires_us <= now))
            conn.execute(sa.insert(TOKENS).values(token_hash=token_hash(issued.token), user_id=user.id,
                                                  created_us=now, expires_us=issued.expires_us))
        return issued

    def user_for(self, token: str) -> User | None:
        """The user a valid, unexpired token belongs to, else None."""
        query = (sa.select(USERS.c.id, USERS.c.email, USERS.c.created_us)
                 .join(TOKENS, TOKENS.c.user_id == USERS.c.id)
                 .where(TOKENS.c.token_hash == token_hash(token), TOKENS.c.expires_us > now_us()))
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else User(id=row.id, email=row.email, created_us=row.created_us)

    def revoke(self, token: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(TOKENS).where(TOKENS.c.token_hash == token_hash(token)))
