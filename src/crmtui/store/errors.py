"""Errors the store raises. Each carries one readable sentence for a person."""

from __future__ import annotations


class CrmError(Exception):
    """Base for every error a user should see as one clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(CrmError):
    """A value given by the user is wrong. `field` names what was wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(CrmError):
    """A record asked for by id or name does not exist (or is in the trash)."""


class DatabaseError(CrmError):
    """The database file cannot be used: locked, damaged, not ours, too new."""
