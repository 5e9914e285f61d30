"""Why a OneRoster pull stopped. Each class names a kind of failure an operator acts on."""

from __future__ import annotations


class RosterError(Exception):
    """A collection could not be pulled; the warehouse keeps its last good state."""


class AuthError(RosterError):
    """The provider refused our credentials, even with a fresh token."""


class ForbiddenError(RosterError):
    """The connection is valid but lacks the permission (scope) for a collection."""

    def __init__(self, message: str, *, collection: str, scope: str | None = None) -> None:
        super().__init__(message)
        self.collection = collection
        self.scope = scope


class EnvelopeError(RosterError):
    """A success response whose body is not the collection envelope (`{"users": [...]}`)."""


class RetriesExhausted(RosterError):
    """A page kept failing with 429, 5xx or a transport error after the retry budget."""


class ProviderError(RosterError):
    """The provider answered with an error that retrying will not fix (400, 404, ...)."""
