"""The LTI side of the app database: registrations, deployments, tool keys, launch state,
single-use nonces, view tokens and the view audit (migration 0003).

Secrets that arrive in browsers (state, nonce, view token) are stored as SHA-256 hashes, so a
copy of the database opens no plan. SQL stays in this module, as in `gateway.py`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sg_pipelines.appdb.store import SqliteStore

REGISTRATION_COLUMNS = (
    "id, district, issuer, client_id, auth_login_url, key_set_url, launch_url, frame_origin"
)


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Deployment:
    """A deployment of the tool in a platform; `buildings` None means the whole district."""

    deployment_id: str
    buildings: tuple[str, ...] | None = None

    def covers(self, building_irn: str | None) -> bool:
        return self.buildings is None or (
            building_irn is not None and building_irn in self.buildings
        )


@dataclass(frozen=True)
class Registration:
    """A platform registered with the tool (LTI Core 1.3 §3, Security Framework §5.1)."""

    id: int
    district: str
    issuer: str
    client_id: str
    auth_login_url: str
    key_set_url: str
    launch_url: str
    frame_origin: str
    deployments: tuple[Deployment, ...] = ()

    def deployment(self, deployment_id: str) -> Deployment | None:
        return next((d for d in self.deployments if d.deployment_id == deployment_id), None)


@dataclass(frozen=True)
class LaunchState:
    """A login initiation as stored: its registration, login parameters, expiry and use."""

    registration_id: int
    login_params: dict[str, str]
    expires_at: float
    used: bool


@dataclass(frozen=True)
class ViewGrant:
    """What a view token stands for."""

    registration_id: int
    deployment_id: str
    user_sub: str
    student_id: int
    program: str
    expires_at: float


@dataclass(frozen=True)
class ViewAuditEntry:
    id: int
    at: str
    registration_id: int | None
    deployment_id: str | None
    user_sub: str | None
    student_id: int | None
    program: str | None
    document_id: int | None
    result: str


class LtiStore(SqliteStore):
    """LTI tables of the app database at `url`; one connection, so one per thread."""

    # registrations

    def add_registration(
        self,
        *,
        district: str,
        issuer: str,
        client_id: str,
        auth_login_url: str,
        key_set_url: str,
        launch_url: str,
        frame_origin: str,
        deployments: Sequence[Deployment] = (),
    ) -> Registration:
        """Register a platform and its deployments; ValueError if (issuer, client) exists."""
        now = _now_text()
        try:
            with self._transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO lti_registrations (district, issuer, client_id, auth_login_url, "
                    "key_set_url, launch_url, frame_origin, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        district,
                        issuer,
                        client_id,
                        auth_login_url,
                        key_set_url,
                        launch_url,
                        frame_origin,
                        now,
                    ),
                )
                registration_id = int(cursor.lastrowid)
                for deployment in deployments:
                    self._insert_deployment(conn, registration_id, deployment, now)
        except sqlite3.IntegrityError as exc:
            raise ValueError("that issuer and client id are already registered") from exc
        return self.registration_by_id(registration_id)

    def add_deployment(self, registration_id: int, deployment: Deployment) -> None:
        """Add (or re-scope) a deployment of an existing registration."""
        with self._transaction() as conn:
            conn.execute(
                "DELETE FROM lti_deployments WHERE registration_id = ? AND deployment_id = ?",
                (registration_id, deployment.deployment_id),
            )
            self._insert_deployment(conn, registration_id, deployment, _now_text())

    @staticmethod
    def _insert_deployment(
        conn: sqlite3.Connection, registration_id: int, deployment: Deployment, now: str
    ) -> None:
        buildings = None if deployment.buildings is None else json.dumps(deployment.buildings)
        conn.execute(
            "INSERT INTO lti_deployments (registration_id, deployment_id, buildings, created_at) "
            "VALUES (?, ?, ?, ?)",
            (registration_id, deployment.deployment_id, buildings, now),
        )

    def remove_registration(self, issuer: str, client_id: str) -> bool:
        """Remove a registration, its deployments, pending launches and view tokens."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM lti_registrations WHERE issuer = ? AND client_id = ?",
                (issuer, client_id),
            )
        return cursor.rowcount > 0

    def registrations(self) -> list[Registration]:
        rows = self._conn.execute(
            f"SELECT {REGISTRATION_COLUMNS} FROM lti_registrations ORDER BY district, issuer, id"
        ).fetchall()
        return [self._registration(row) for row in rows]

    def registration_by_id(self, registration_id: int) -> Registration | None:
        row = self._conn.execute(
            f"SELECT {REGISTRATION_COLUMNS} FROM lti_registrations WHERE id = ?",
            (registration_id,),
        ).fetchone()
        return self._registration(row) if row else None

    def registrations_for(self, issuer: str, client_id: str | None = None) -> list[Registration]:
        """Registrations of an issuer (exact match), narrowed to one client id when given."""
        sql = f"SELECT {REGISTRATION_COLUMNS} FROM lti_registrations WHERE issuer = ?"
        params: list[Any] = [issuer]
        if client_id is not None:
            sql += " AND client_id = ?"
            params.append(client_id)
        rows = self._conn.execute(sql + " ORDER BY id", params).fetchall()
        return [self._registration(row) for row in rows]

    def _registration(self, row: sqlite3.Row) -> Registration:
        deployments = tuple(
            Deployment(
                d["deployment_id"], tuple(json.loads(d["buildings"])) if d["buildings"] else None
            )
            for d in self._conn.execute(
                "SELECT deployment_id, buildings FROM lti_deployments "
                "WHERE registration_id = ? ORDER BY deployment_id",
                (row["id"],),
            )
        )
        return Registration(**dict(row), deployments=deployments)

    # the tool's signing keys

    def tool_keys(self, now: float) -> list[tuple[str, dict[str, Any], bool]]:
        """Published keys as (kid, private JWK, active), newest first; expired retirees left out."""
        rows = self._conn.execute(
            "SELECT kid, private_jwk, retired_at FROM lti_tool_keys "
            "WHERE retire_after IS NULL OR retire_after > ? ORDER BY created_at DESC, kid",
            (now,),
        ).fetchall()
        return [
            (row["kid"], json.loads(row["private_jwk"]), row["retired_at"] is None) for row in rows
        ]

    def add_tool_key(
        self, kid: str, private_jwk: dict[str, Any], *, retire_others_after: float
    ) -> None:
        """Make `kid` the signing key; the keys it replaces stay published until the given time."""
        now = _now_text()
        with self._transaction() as conn:
            conn.execute(
                "UPDATE lti_tool_keys SET retired_at = ?, retire_after = ? "
                "WHERE retired_at IS NULL",
                (now, retire_others_after),
            )
            conn.execute(
                "INSERT INTO lti_tool_keys (kid, private_jwk, created_at) VALUES (?, ?, ?)",
                (kid, json.dumps(private_jwk), now),
            )

    # launch state and nonces

    def begin_launch(
        self,
        state_hash: str,
        nonce_hash: str,
        registration_id: int,
        login_params: dict[str, str],
        *,
        state_expires_at: float,
        nonce_expires_at: float,
    ) -> None:
        """Store a login initiation's state and the nonce issued with it."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO lti_states (state_hash, registration_id, login_params, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (state_hash, registration_id, json.dumps(login_params), state_expires_at),
            )
            conn.execute(
                "INSERT INTO lti_nonces (nonce_hash, state_hash, expires_at) VALUES (?, ?, ?)",
                (nonce_hash, state_hash, nonce_expires_at),
            )

    def launch_state(self, state_hash: str) -> LaunchState | None:
        row = self._conn.execute(
            "SELECT registration_id, login_params, expires_at, used_at FROM lti_states "
            "WHERE state_hash = ?",
            (state_hash,),
        ).fetchone()
        if row is None:
            return None
        return LaunchState(
            registration_id=row["registration_id"],
            login_params=json.loads(row["login_params"]),
            expires_at=row["expires_at"],
            used=row["used_at"] is not None,
        )

    def consume_launch(self, state_hash: str, nonce_hash: str, now: float) -> bool:
        """Use a state and its nonce, once: False if either is unknown, expired, used or unpaired.

        Both change in one transaction, so two concurrent posts of one id_token cannot both win.
        """
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            deleted = conn.execute(
                "DELETE FROM lti_nonces WHERE nonce_hash = ? AND state_hash = ? AND expires_at > ?",
                (nonce_hash, state_hash, now),
            ).rowcount
            used = conn.execute(
                "UPDATE lti_states SET used_at = ? "
                "WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?",
                (_now_text(), state_hash, now),
            ).rowcount
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        consumed = bool(deleted and used)
        conn.execute("COMMIT" if consumed else "ROLLBACK")
        return consumed

    def sweep(self, now: float, *, keep_used_states_seconds: float = 3600) -> int:
        """Delete expired launch state, nonces and view tokens; return how many rows went.

        Used states are kept a while longer so a replayed launch meets a "relaunch" page that
        can tell it apart from one that never existed.
        """
        with self._transaction() as conn:
            removed = conn.execute("DELETE FROM lti_nonces WHERE expires_at <= ?", (now,)).rowcount
            removed += conn.execute(
                "DELETE FROM lti_states WHERE expires_at <= ?", (now - keep_used_states_seconds,)
            ).rowcount
            removed += conn.execute(
                "DELETE FROM lti_view_tokens WHERE expires_at <= ?", (now,)
            ).rowcount
        return removed

    # view tokens

    def add_view_token(self, token_hash: str, grant: ViewGrant) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO lti_view_tokens (token_hash, registration_id, deployment_id, "
                "user_sub, student_id, program, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token_hash,
                    grant.registration_id,
                    grant.deployment_id,
                    grant.user_sub,
                    grant.student_id,
                    grant.program,
                    grant.expires_at,
                ),
            )

    def view_grant(self, token_hash: str, now: float) -> ViewGrant | None:
        """The grant a view token stands for, or None when unknown or expired."""
        row = self._conn.execute(
            "SELECT registration_id, deployment_id, user_sub, student_id, program, expires_at "
            "FROM lti_view_tokens WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now),
        ).fetchone()
        return ViewGrant(**dict(row)) if row else None

    # audit

    def record_view(
        self,
        result: str,
        *,
        registration_id: int | None = None,
        deployment_id: str | None = None,
        user_sub: str | None = None,
        student_id: int | None = None,
        program: str | None = None,
        document_id: int | None = None,
    ) -> None:
        """Audit one launch decision or view. `result` is a short code such as `shown`."""
        self._conn.execute(
            "INSERT INTO lti_view_audit (at, registration_id, deployment_id, user_sub, "
            "student_id, program, document_id, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _now_text(),
                registration_id,
                deployment_id,
                user_sub,
                student_id,
                program,
                document_id,
                result,
            ),
        )

    def view_audit(self, *, student_id: int | None = None) -> list[ViewAuditEntry]:
        """Audit rows, oldest first, optionally for one student."""
        sql = (
            "SELECT id, at, registration_id, deployment_id, user_sub, student_id, program, "
            "document_id, result FROM lti_view_audit"
        )
        params: list[Any] = []
        if student_id is not None:
            sql += " WHERE student_id = ?"
            params.append(student_id)
        rows = self._conn.execute(sql + " ORDER BY id", params).fetchall()
        return [ViewAuditEntry(**dict(row)) for row in rows]
