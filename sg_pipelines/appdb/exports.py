"""The data-export side of the app database: API accounts, their endpoint permissions, the
invitations their contacts accept, bearer tokens and the API audit (migration 0004).

Secrets and tokens arrive here already hashed: client secrets as HMAC-SHA256 under the server
key, bearer tokens and invitation links as SHA-256. A copy of the database opens nothing. SQL
stays in this module, as in `gateway.py`.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sg_pipelines.appdb.store import SqliteStore

EXPORT_COLUMNS = (
    "id, name, contact_first_name, contact_last_name, contact_email, client_id, "
    "secret_hash IS NOT NULL AS has_secret, secret_issued_at, accepted_at, disabled_at, sftp, "
    "created_at"
)
UPDATABLE_EXPORT_FIELDS = frozenset(
    {"name", "contact_first_name", "contact_last_name", "contact_email", "sftp"}
)


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Permission:
    """One endpoint an account may call, and how.

    Args:
        endpoint: `ge`, `fd`, `fe`, `gq` or `ohioPreId`.
        options: per option name, `{"default": value or None, "allow_override": bool}`.
        max_page_size: the largest page any request gets, whatever it asks for.
        replace_unknown: FD only: fields Campus owns are sent as `@` instead of null.
    """

    endpoint: str
    options: Mapping[str, Mapping[str, Any]]
    max_page_size: int
    replace_unknown: bool = False


@functools.lru_cache(maxsize=1024)
def _permission(
    endpoint: str, options_json: str, max_page_size: int, replace_unknown: bool
) -> Permission:
    """A permission from its stored columns; the same columns give the same (frozen) object,
    so a request does not parse the options again."""
    options = MappingProxyType(
        {name: MappingProxyType(option) for name, option in json.loads(options_json).items()}
    )
    return Permission(endpoint, options, max_page_size, replace_unknown)


@dataclass(frozen=True)
class DataExport:
    """An API account as stored, without its secret."""

    id: int
    name: str
    contact_first_name: str
    contact_last_name: str
    contact_email: str
    client_id: str
    has_secret: bool
    secret_issued_at: str | None
    accepted_at: str | None
    disabled_at: str | None
    sftp: dict[str, Any] | None
    created_at: str
    permissions: tuple[Permission, ...] = field(default=())

    @property
    def active(self) -> bool:
        """May call the token endpoint: terms accepted, a secret shown, not disabled."""
        return self.accepted_at is not None and self.has_secret and self.disabled_at is None

    def permission(self, endpoint: str) -> Permission | None:
        return next((p for p in self.permissions if p.endpoint == endpoint), None)


@dataclass(frozen=True)
class Invitation:
    export_id: int
    purpose: str
    expires_at: float
    used: bool


@dataclass(frozen=True)
class TokenGrant:
    """What a bearer token stands for, with its account's state at the time of the lookup."""

    export_id: int
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    account_active: bool


@dataclass(frozen=True)
class AuditRow:
    """One audit row to write: a token call or record request, stamped when it was answered."""

    at: str
    endpoint: str
    result: str
    status: int
    export_id: int | None = None
    client_id: str | None = None
    correlation_id: str | None = None

    @classmethod
    def now(cls, endpoint: str, result: str, status: int, **fields: Any) -> AuditRow:
        return cls(_now_text(), endpoint, result, status, **fields)


@dataclass(frozen=True)
class ApiAuditEntry:
    id: int
    at: str
    export_id: int | None
    client_id: str | None
    endpoint: str
    result: str
    status: int
    correlation_id: str | None


class ExportStore(SqliteStore):
    """Data-export tables of the app database at `url`; one connection, so one per thread."""

    # accounts

    def add_export(
        self,
        *,
        name: str,
        contact_first_name: str,
        contact_last_name: str,
        contact_email: str,
        client_id: str,
        permissions: Sequence[Permission],
        sftp: Mapping[str, Any] | None = None,
    ) -> DataExport:
        """Create an account (no secret yet); ValueError when the name is taken."""
        now = _now_text()
        try:
            with self._transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO data_exports (name, contact_first_name, contact_last_name, "
                    "contact_email, client_id, sftp, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        contact_first_name,
                        contact_last_name,
                        contact_email,
                        client_id,
                        json.dumps(dict(sftp)) if sftp is not None else None,
                        now,
                        now,
                    ),
                )
                export_id = int(cursor.lastrowid)
                self._write_permissions(conn, export_id, permissions)
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"a data export named {name!r} already exists") from exc
        return self.export_by_id(export_id)

    def update_export(
        self,
        export_id: int,
        changes: Mapping[str, Any],
        *,
        permissions: Sequence[Permission] | None = None,
    ) -> DataExport:
        """Change contact, name or SFTP fields, and replace the permissions when given."""
        unknown = set(changes) - UPDATABLE_EXPORT_FIELDS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = {
            key: json.dumps(value) if key == "sftp" and value is not None else value
            for key, value in changes.items()
        }
        try:
            with self._transaction() as conn:
                if values:
                    assignments = ", ".join(f"{column} = ?" for column in values)
                    conn.execute(
                        f"UPDATE data_exports SET {assignments}, updated_at = ? WHERE id = ?",
                        (*values.values(), _now_text(), export_id),
                    )
                if permissions is not None:
                    conn.execute(
                        "DELETE FROM data_export_permissions WHERE export_id = ?", (export_id,)
                    )
                    self._write_permissions(conn, export_id, permissions)
        except sqlite3.IntegrityError as exc:
            raise ValueError("another data export already has that name") from exc
        return self.export_by_id(export_id)

    @staticmethod
    def _write_permissions(
        conn: sqlite3.Connection, export_id: int, permissions: Sequence[Permission]
    ) -> None:
        for permission in permissions:
            conn.execute(
                "INSERT INTO data_export_permissions (export_id, endpoint, options, "
                "max_page_size, replace_unknown) VALUES (?, ?, ?, ?, ?)",
                (
                    export_id,
                    permission.endpoint,
                    json.dumps({k: dict(v) for k, v in permission.options.items()}),
                    permission.max_page_size,
                    int(permission.replace_unknown),
                ),
            )

    def exports(self) -> list[DataExport]:
        rows = self._conn.execute(f"SELECT {EXPORT_COLUMNS} FROM data_exports ORDER BY name")
        return [self._export(row) for row in rows.fetchall()]

    def export_by_id(self, export_id: int) -> DataExport | None:
        return self._one("id = ?", export_id)

    def export_by_name(self, name: str) -> DataExport | None:
        return self._one("name = ?", name)

    def export_by_client_id(self, client_id: str) -> DataExport | None:
        return self._one("client_id = ?", client_id)

    def _one(self, where: str, value: Any) -> DataExport | None:
        row = self._conn.execute(
            f"SELECT {EXPORT_COLUMNS} FROM data_exports WHERE {where}", (value,)
        ).fetchone()
        return self._export(row) if row else None

    def _export(self, row: sqlite3.Row) -> DataExport:
        permissions = tuple(
            _permission(p["endpoint"], p["options"], p["max_page_size"], bool(p["replace_unknown"]))
            for p in self._conn.execute(
                "SELECT endpoint, options, max_page_size, replace_unknown "
                "FROM data_export_permissions WHERE export_id = ? ORDER BY endpoint",
                (row["id"],),
            )
        )
        values = dict(row)
        values["has_secret"] = bool(values["has_secret"])
        values["sftp"] = json.loads(values["sftp"]) if values["sftp"] else None
        return DataExport(**values, permissions=permissions)

    def secret_hash(self, client_id: str) -> tuple[DataExport, str | None] | None:
        """The account a client id names and its stored secret hash, for the token call."""
        row = self._conn.execute(
            "SELECT secret_hash FROM data_exports WHERE client_id = ?", (client_id,)
        ).fetchone()
        if row is None:
            return None
        return self.export_by_client_id(client_id), row["secret_hash"]

    def set_disabled(self, export_id: int, disabled: bool) -> None:
        """Disable (or re-enable) an account; disabling revokes its tokens at once."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE data_exports SET disabled_at = ?, updated_at = ? WHERE id = ?",
                (_now_text() if disabled else None, _now_text(), export_id),
            )
            if disabled:
                conn.execute("DELETE FROM api_tokens WHERE export_id = ?", (export_id,))

    def revoke_secret(self, export_id: int) -> None:
        """Forget the secret and revoke every token: nothing works until a new one is shown."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE data_exports SET secret_hash = NULL, secret_issued_at = NULL, "
                "updated_at = ? WHERE id = ?",
                (_now_text(), export_id),
            )
            conn.execute("DELETE FROM api_tokens WHERE export_id = ?", (export_id,))

    # invitations

    def add_invitation(
        self, export_id: int, token_hash: str, *, purpose: str, expires_at: float
    ) -> None:
        """A new link for the contact; earlier unused links of the account stop working."""
        now = _now_text()
        with self._transaction() as conn:
            conn.execute(
                "UPDATE data_export_invitations SET used_at = ? "
                "WHERE export_id = ? AND used_at IS NULL",
                (now, export_id),
            )
            conn.execute(
                "INSERT INTO data_export_invitations (token_hash, export_id, purpose, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash, export_id, purpose, now, expires_at),
            )

    def invitation(self, token_hash: str) -> Invitation | None:
        row = self._conn.execute(
            "SELECT export_id, purpose, expires_at, used_at FROM data_export_invitations "
            "WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return Invitation(row["export_id"], row["purpose"], row["expires_at"], bool(row["used_at"]))

    def accept_invitation(self, token_hash: str, secret_hash: str, now: float) -> int | None:
        """Use a link once: record the acceptance and store the new secret's hash.

        Returns the account id, or None when the link is unknown, expired or used. Both writes
        happen in one transaction, so two concurrent accepts cannot both show a secret.
        """
        instant = _now_text()
        with self._transaction() as conn:
            row = conn.execute(
                "UPDATE data_export_invitations SET used_at = ? "
                "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING export_id",
                (instant, token_hash, now),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE data_exports SET secret_hash = ?, secret_issued_at = ?, "
                "accepted_at = coalesce(accepted_at, ?), updated_at = ? WHERE id = ?",
                (secret_hash, instant, instant, instant, row["export_id"]),
            )
        return int(row["export_id"])

    # bearer tokens

    def add_token(
        self,
        token_hash: str,
        export_id: int,
        scopes: Sequence[str],
        *,
        issued_at: float,
        expires_at: float,
    ) -> None:
        self._conn.execute(
            "INSERT INTO api_tokens (token_hash, export_id, scopes, issued_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (token_hash, export_id, " ".join(scopes), issued_at, expires_at),
        )

    def token_grant(self, token_hash: str, now: float) -> TokenGrant | None:
        """What an unexpired token stands for, or None when unknown, expired or revoked."""
        row = self._conn.execute(
            "SELECT t.export_id, e.client_id, t.scopes, t.expires_at, "
            "e.accepted_at IS NOT NULL AND e.secret_hash IS NOT NULL AND e.disabled_at IS NULL "
            "AS active FROM api_tokens t JOIN data_exports e ON e.id = t.export_id "
            "WHERE t.token_hash = ? AND t.expires_at > ?",
            (token_hash, now),
        ).fetchone()
        if row is None:
            return None
        return TokenGrant(
            export_id=row["export_id"],
            client_id=row["client_id"],
            scopes=tuple(row["scopes"].split()),
            expires_at=row["expires_at"],
            account_active=bool(row["active"]),
        )

    def token_access(
        self, token_hash: str, now: float, endpoint: str
    ) -> tuple[TokenGrant, Permission | None] | None:
        """`token_grant` and the account's permission for `endpoint` as they stand now, in one
        read (None for the permission when the account lacks it)."""
        row = self._conn.execute(
            "SELECT t.export_id, e.client_id, t.scopes, t.expires_at, "
            "e.accepted_at IS NOT NULL AND e.secret_hash IS NOT NULL AND e.disabled_at IS NULL "
            "AS active, p.endpoint, p.options, p.max_page_size, p.replace_unknown "
            "FROM api_tokens t JOIN data_exports e ON e.id = t.export_id "
            "LEFT JOIN data_export_permissions p ON p.export_id = t.export_id AND p.endpoint = ? "
            "WHERE t.token_hash = ? AND t.expires_at > ?",
            (endpoint, token_hash, now),
        ).fetchone()
        if row is None:
            return None
        grant = TokenGrant(
            export_id=row["export_id"],
            client_id=row["client_id"],
            scopes=tuple(row["scopes"].split()),
            expires_at=row["expires_at"],
            account_active=bool(row["active"]),
        )
        if row["endpoint"] is None:
            return grant, None
        return grant, _permission(
            row["endpoint"], row["options"], row["max_page_size"], bool(row["replace_unknown"])
        )

    def sweep_tokens(self, now: float) -> int:
        """Delete expired tokens and invitations; return how many rows went."""
        with self._transaction() as conn:
            removed = conn.execute("DELETE FROM api_tokens WHERE expires_at <= ?", (now,)).rowcount
            removed += conn.execute(
                "DELETE FROM data_export_invitations WHERE expires_at <= ?", (now,)
            ).rowcount
        return removed

    # audit

    def record_call(
        self,
        endpoint: str,
        result: str,
        status: int,
        *,
        export_id: int | None = None,
        client_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Audit one token call or record request. `result` is a short code such as `ok`."""
        row = AuditRow(_now_text(), endpoint, result, status, export_id, client_id, correlation_id)
        self.record_calls([row])

    def record_calls(self, rows: Sequence[AuditRow]) -> None:
        """Audit several calls in one transaction, each with the time it was answered."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO api_audit (at, endpoint, result, status, export_id, client_id, "
                "correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [astuple(row) for row in rows],
            )

    def audit(self, *, export_id: int | None = None) -> list[ApiAuditEntry]:
        """Audit rows, oldest first, optionally for one account."""
        sql = (
            "SELECT id, at, export_id, client_id, endpoint, result, status, correlation_id "
            "FROM api_audit"
        )
        params: list[Any] = []
        if export_id is not None:
            sql += " WHERE export_id = ?"
            params.append(export_id)
        rows = self._conn.execute(sql + " ORDER BY id", params).fetchall()
        return [ApiAuditEntry(**dict(row)) for row in rows]
