"""Users: sign-up and password login with e-mail addresses.

Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106's
recommendations) and rehashed at login when those parameters change. Hashing is slow on
purpose (tens of milliseconds): call these methods from a worker thread, never on the
event loop.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from api.db import USERS, Database, new_id
from api.errors import Conflict, InvalidInput
from api.text import plain_text
from sensr.frames import now_us

MAX_PASSWORD_LENGTH = 1024  # bounds the hashing work one request can ask for
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    created_us: int
    time_zone: str | None = None
    """The IANA time zone the user chose (`api.zones`); None: the browser's."""


def normalize_email(email: str) -> str:
    """The one spelling an address is stored and looked up under: Unicode NFKC, trimmed,
    lower-cased (mail providers treat local parts case-insensitively in practice).
    Raises InvalidInput when it is not an address."""
    normalized = plain_text(unicodedata.normalize("NFKC", email), "email").strip().lower()
    if len(normalized) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(normalized):
        raise InvalidInput("email must be an e-mail address like name@example.com")
    return normalized


class UserService:
    def __init__(self, db: Database, min_password_length: int, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._min_password_length = min_password_length
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash = self._hasher.hash("not a password of anyone")

    def sign_up(self, email: str, password: str) -> User:
        """Create a user. Raises InvalidInput (address, password length) or Conflict (taken)."""
        address = normalize_email(email)
        self._check_new(password)
        user = User(id=new_id(), email=address, created_us=now_us())
        try:
            with self._db.write() as conn:
                conn.execute(sa.insert(USERS).values(id=user.id, email=user.email, created_us=user.created_us,
                                                     password_hash=self._hasher.hash(password)))
        except IntegrityError:
            raise Conflict("an account with this e-mail address exists already") from None
        return user

    def authenticate(self, email: str, password: str) -> User | None:
        """The user with these credentials, or None. Takes as long for an unknown address
        as for a wrong password, so timing does not tell which addresses have accounts.
        Raises InvalidInput for an address holding control characters (no account can)."""
        plain_text(email, "email")
        try:
            address = normalize_email(email)
        except InvalidInput:
            address = ""
        with self._db.read() as conn:
            row = conn.execute(sa.select(USERS).where(USERS.c.email == address)).first() if address else None
        if row is None or len(password) > MAX_PASSWORD_LENGTH:
            self._verify(self._dummy_hash, password[:MAX_PASSWORD_LENGTH])
            return None
        if not self._verify(row.password_hash, password):
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            with self._db.write() as conn:
                conn.execute(sa.update(USERS).where(USERS.c.id == row.id)
                             .values(password_hash=self._hasher.hash(password)))
        return User(id=row.id, email=row.email, created_us=row.created_us, time_zone=row.time_zone)

    def get(self, user_id: str) -> User | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(USERS.c.id, USERS.c.email, USERS.c.created_us, USERS.c.time_zone)
                               .where(USERS.c.id == user_id)).first()
        return None if row is None else User(id=row.id, email=row.email, created_us=row.created_us,
                                              time_zone=row.time_zone)

    def change_password(self, user: User, current: str, new: str) -> None:
        """Replace the password after checking the current one. Raises InvalidInput (wrong
        current password, new one too short or too long). Ending the other sessions and
        tokens is the caller's part (`TokenService.revoke_all`)."""
        with self._db.read() as conn:
            stored = conn.execute(sa.select(USERS.c.password_hash).where(USERS.c.id == user.id)).scalar()
        if stored is None or len(current) > MAX_PASSWORD_LENGTH or not self._verify(stored, current):
            raise InvalidInput("the current password is not right")
        self._check_new(new)
        with self._db.write() as conn:
            conn.execute(sa.update(USERS).where(USERS.c.id == user.id).values(password_hash=self._hasher.hash(new)))

    def confirm(self, user: User, password: str) -> None:
        """Raises InvalidInput unless `password` is the user's (before deleting the account)."""
        with self._db.read() as conn:
            stored = conn.execute(sa.select(USERS.c.password_hash).where(USERS.c.id == user.id)).scalar()
        if stored is None or len(password) > MAX_PASSWORD_LENGTH or not self._verify(stored, password):
            raise InvalidInput("the password is not right")

    def set_time_zone(self, user: User, zone: str | None) -> User:
        """Keep `zone` (a valid IANA name, or None: the browser's) as the user's."""
        with self._db.write() as conn:
            conn.execute(sa.update(USERS).where(USERS.c.id == user.id).values(time_zone=zone))
        return User(id=user.id, email=user.email, created_us=user.created_us, time_zone=zone)

    def forget(self, user: User) -> None:
        """Close the account: its e-mail address is freed and no password opens it again.
        The row stays (as an empty shell, like a deleted camera's) because the deleted
        cameras' rows, which keep their upload usernames taken, point to it."""
        with self._db.write() as conn:
            conn.execute(sa.update(USERS).where(USERS.c.id == user.id)
                         .values(email=f"deleted-{user.id}@deleted.invalid", password_hash="!", time_zone=None))

    def _check_new(self, password: str) -> None:
        if len(password) < self._min_password_length:
            raise InvalidInput(f"password must be at least {self._min_password_length} characters long")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidInput(f"password must be at most {MAX_PASSWORD_LENGTH} characters long")

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
