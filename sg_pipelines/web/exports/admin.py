"""What `sg-pipelines exports add | list | show | update | rotate-secret | disable | enable` do.

Plain functions of the settings, so the CLI stays a thin layer. Options arrive as the CLI's
strings and are checked here with the same parser the API uses:

- `options`: `endpoint.option=value` (or `option=value` for every endpoint that takes it) sets
  the district default, e.g. `ge.fiscalYear=2026`, `reportingPeriod=K`, `limit=500`;
- `locked` / `unlocked`: `endpoint.option` or `option` turns "allow caller override" off / on;
- `max_page_sizes`: `N` for every endpoint or `endpoint=N` for one.

Creating an account, and rotating its secret, mails the contact a single-use link to the
acceptance page; the secret is generated there, shown once, and stored only as a keyed hash.
Nothing here prints or returns a secret.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sg_pipelines.appdb.exports import DataExport, ExportStore, Permission
from sg_pipelines.notify.mail import MailError, send_mail
from sg_pipelines.settings import Settings
from sg_pipelines.web.api.credentials import new_client_id, new_token, token_digest
from sg_pipelines.web.api.options import ENDPOINTS, OptionError, default_options, parse_option

logger = logging.getLogger(__name__)

INVITATION_TTL_SECONDS = 7 * 24 * 3600
SFTP_FIELDS = ("host", "port", "username", "remote_dir")


class ExportError(ValueError):
    """The request cannot be carried out; the message says why, for the CLI to show."""


@dataclass(frozen=True)
class InvitationLink:
    """A link mailed (or to be handed over) to the account's contact."""

    export: DataExport
    url: str
    expires_in_days: int
    mailed: bool
    mail_error: str | None = None


def _store(settings: Settings) -> ExportStore:
    return ExportStore(settings.app_database)


def _find(store: ExportStore, name: str) -> DataExport:
    """The export named `name`, or whose client id it is (as `exports list` shows both)."""
    export = store.export_by_name(name) or store.export_by_client_id(name)
    if export is None:
        known = ", ".join(e.name for e in store.exports()) or "none"
        raise ExportError(f"no data export named {name!r} (known: {known})")
    return export


# add, update


def add_export(
    settings: Settings,
    *,
    name: str,
    contact_first_name: str,
    contact_last_name: str,
    contact_email: str,
    endpoints: Sequence[str],
    options: Sequence[str] = (),
    locked: Sequence[str] = (),
    max_page_sizes: Sequence[str] = (),
    replace_unknown: bool = False,
    sftp: Mapping[str, Any] | None = None,
    send: bool = True,
    smtp_password: str | None = None,
) -> InvitationLink:
    """Create an API account with its permissions and mail the contact the acceptance link."""
    _check_contact(name, contact_first_name, contact_last_name, contact_email)
    permissions = build_permissions(
        settings,
        endpoints,
        options=options,
        locked=locked,
        max_page_sizes=max_page_sizes,
        replace_unknown=replace_unknown,
    )
    with _store(settings) as store:
        try:
            export = store.add_export(
                name=name,
                contact_first_name=contact_first_name,
                contact_last_name=contact_last_name,
                contact_email=contact_email,
                client_id=new_client_id(),
                permissions=permissions,
                sftp=_sftp(sftp),
            )
        except ValueError as error:
            raise ExportError(str(error)) from error
        logger.info("added data export %s with %d endpoints", export.client_id, len(permissions))
        return _invite(settings, store, export, "accept", send, smtp_password)


def update_export(
    settings: Settings,
    name: str,
    *,
    new_name: str | None = None,
    contact_first_name: str | None = None,
    contact_last_name: str | None = None,
    contact_email: str | None = None,
    endpoints: Sequence[str] | None = None,
    options: Sequence[str] = (),
    locked: Sequence[str] = (),
    unlocked: Sequence[str] = (),
    max_page_sizes: Sequence[str] = (),
    replace_unknown: bool | None = None,
    sftp: Mapping[str, Any] | None = None,
    clear_sftp: bool = False,
) -> DataExport:
    """Change an account: contact, name, endpoints, option defaults and switches, page sizes.

    Options not named keep their current default and switch; `endpoints`, when given, is the
    complete new list (a removed endpoint's permission ends at once, tokens included).
    """
    with _store(settings) as store:
        export = _find(store, name)
        changes: dict[str, Any] = {
            key: value
            for key, value in {
                "name": new_name,
                "contact_first_name": contact_first_name,
                "contact_last_name": contact_last_name,
                "contact_email": contact_email,
            }.items()
            if value is not None
        }
        if clear_sftp:
            changes["sftp"] = None
        elif sftp is not None:
            changes["sftp"] = _sftp(sftp)
        _check_contact(
            changes.get("name", export.name),
            changes.get("contact_first_name", export.contact_first_name),
            changes.get("contact_last_name", export.contact_last_name),
            changes.get("contact_email", export.contact_email),
        )

        touched = endpoints is not None or any(
            (options, locked, unlocked, max_page_sizes, replace_unknown is not None)
        )
        permissions = None
        if touched:
            permissions = build_permissions(
                settings,
                endpoints if endpoints is not None else [p.endpoint for p in export.permissions],
                options=options,
                locked=locked,
                unlocked=unlocked,
                max_page_sizes=max_page_sizes,
                replace_unknown=replace_unknown,
                current=export.permissions,
            )
        try:
            updated = store.update_export(export.id, changes, permissions=permissions)
        except ValueError as error:
            raise ExportError(str(error)) from error
        logger.info("updated data export %s", updated.client_id)
        return updated


def build_permissions(
    settings: Settings,
    endpoints: Iterable[str],
    *,
    options: Sequence[str] = (),
    locked: Sequence[str] = (),
    unlocked: Sequence[str] = (),
    max_page_sizes: Sequence[str] = (),
    replace_unknown: bool | None = None,
    current: Sequence[Permission] = (),
) -> list[Permission]:
    """Permissions from the CLI's strings, on top of `current` ones; ExportError if any is off."""
    names = list(dict.fromkeys(endpoints))
    unknown = [name for name in names if name not in ENDPOINTS]
    if unknown or not names:
        raise ExportError(
            f"endpoints must be among {', '.join(ENDPOINTS)}; got {', '.join(names) or 'none'}"
        )
    sizes = _page_sizes(settings, names, max_page_sizes)
    existing = {p.endpoint: p for p in current}

    permissions = []
    for name in names:
        endpoint = ENDPOINTS[name]
        before = existing.get(name)
        size = sizes.get(name) or (before.max_page_size if before else None)
        size = size or settings.api.default_max_page_size
        rules = {k: dict(v) for k, v in (before.options if before else {}).items()}
        for option, rule in default_options(endpoint, size).items():
            rules.setdefault(option, rule)
        for applies, option, value in _targets(options, names, with_value=True):
            if option in endpoint.options and name in applies:
                try:
                    parsed = parse_option(option, value, endpoint)
                except OptionError as error:
                    raise ExportError(f"{name}.{option} {error}") from None
                if option == "limit" and parsed > size:
                    raise ExportError(f"{name}.limit is above the maximum page size {size}")
                rules[option]["default"] = value.strip()
        for switch, allowed in ((locked, False), (unlocked, True)):
            for applies, option, _ in _targets(switch, names, with_value=False):
                if option in endpoint.options and name in applies:
                    rules[option]["allow_override"] = allowed
        keep_unknown = before.replace_unknown if before else False
        permissions.append(
            Permission(
                endpoint=name,
                options=rules,
                max_page_size=size,
                replace_unknown=name == "fd"
                and (replace_unknown if replace_unknown is not None else keep_unknown),
            )
        )
    return permissions


def _targets(
    specs: Sequence[str], endpoints: list[str], *, with_value: bool
) -> list[tuple[list[str], str, str]]:
    """(endpoints it applies to, option, value) for each `endpoint.option[=value]` string."""
    found = []
    for spec in specs:
        target, equals, value = spec.partition("=")
        if with_value and not equals:
            raise ExportError(f"{spec!r}: write endpoint.option=value or option=value")
        scope, dot, option = target.strip().rpartition(".")
        if dot and scope not in ENDPOINTS:
            raise ExportError(f"{spec!r}: {scope!r} is not an endpoint")
        applies = [scope] if dot else endpoints
        if not any(option in ENDPOINTS[name].options for name in applies if name in ENDPOINTS):
            raise ExportError(f"{spec!r}: no listed endpoint takes the option {option!r}")
        found.append((applies, option, value))
    return found


def _page_sizes(settings: Settings, names: list[str], specs: Sequence[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for spec in specs:
        endpoint, equals, text = spec.rpartition("=")
        if not text.strip().isdigit() or not 1 <= int(text) <= 50_000:
            raise ExportError(f"{spec!r}: a maximum page size is 1 to 50,000")
        if equals and endpoint not in names:
            raise ExportError(f"{spec!r}: {endpoint!r} is not one of the account's endpoints")
        for name in [endpoint] if equals else names:
            sizes[name] = int(text)
    return sizes


def _check_contact(name: str, first: str, last: str, email: str) -> None:
    if not name.strip() or not first.strip() or not last.strip():
        raise ExportError("a data export needs a name and the contact's first and last name")
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise ExportError("the contact's email address does not look like one")


def _sftp(sftp: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if sftp is None:
        return None
    unknown = sorted(set(sftp) - set(SFTP_FIELDS))
    if unknown:
        raise ExportError(
            f"unknown SFTP field(s) {', '.join(unknown)}; known: host, port, username, remote_dir"
        )
    if not sftp.get("host") or not sftp.get("username"):
        raise ExportError("an SFTP push needs --sftp-host and --sftp-username")
    port = sftp.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        raise ExportError(f"the SFTP port must be between 1 and 65535, got {port}")
    return {key: sftp[key] for key in SFTP_FIELDS if sftp.get(key) is not None}


# secrets and invitations


def rotate_secret(
    settings: Settings,
    name: str,
    *,
    revoke_now: bool = False,
    send: bool = True,
    smtp_password: str | None = None,
) -> InvitationLink:
    """Mail the contact a new single-use link; the new secret is generated when it is opened.

    The current secret keeps working until then (Campus is never without credentials), unless
    `revoke_now`, which forgets it and revokes every token at once (for a leaked secret). Before
    the terms are accepted this simply sends a fresh acceptance link.
    """
    with _store(settings) as store:
        export = _find(store, name)
        if revoke_now:
            store.revoke_secret(export.id)
            logger.info("revoked the secret and tokens of %s", export.client_id)
        purpose = "rotate" if export.accepted_at else "accept"
        return _invite(settings, store, export, purpose, send, smtp_password)


def _invite(
    settings: Settings,
    store: ExportStore,
    export: DataExport,
    purpose: str,
    send: bool,
    smtp_password: str | None,
) -> InvitationLink:
    token = new_token()
    store.add_invitation(
        export.id,
        token_digest(token),
        purpose=purpose,
        expires_at=time.time() + INVITATION_TTL_SECONDS,
    )
    url = f"{settings.api.public_url.rstrip('/')}/exports/accept/{token}"
    days = INVITATION_TTL_SECONDS // 86400
    export = store.export_by_id(export.id)
    if not send:
        return InvitationLink(export, url, days, mailed=False)
    try:
        send_mail(
            settings.smtp,
            export.contact_email,
            invitation_subject(settings, export, purpose),
            invitation_text(settings, export, url, purpose),
            password=smtp_password,
        )
    except MailError as error:
        logger.warning("the invitation for %s was not mailed: %s", export.client_id, error)
        return InvitationLink(export, url, days, mailed=False, mail_error=str(error))
    return InvitationLink(export, url, days, mailed=True)


def invitation_subject(settings: Settings, export: DataExport, purpose: str) -> str:
    if purpose == "rotate":
        return f"{settings.district_name}: a new client secret for data export {export.name}"
    return f"{settings.district_name}: accept the terms of data export {export.name}"


def invitation_text(settings: Settings, export: DataExport, url: str, purpose: str) -> str:
    """The invitation: the link and what it does; never a secret or student data."""
    days = INVITATION_TTL_SECONDS // 86400
    what = (
        "A new client secret was requested for it. The current secret keeps working until you "
        "open this link and confirm; after that only the new one does."
        if purpose == "rotate"
        else "Campus's State Reporting will use it to pull the district's EMIS "
        "special-education records."
    )
    return (
        f"Hello {export.contact_first_name} {export.contact_last_name},\n\n"
        f'{settings.district_name} set up the data export "{export.name}" on its reporting '
        f"API, with you as its contact. {what}\n\n"
        f"Open this link to read and accept the terms:\n\n  {url}\n\n"
        "After you accept, the page shows the client id and the client secret once. Have "
        "Campus's API configuration open so you can copy them there. The link works once and "
        f"expires in {days} days.\n\n"
        "If you did not expect this message, ignore it and tell the district.\n"
    )


# list, show, disable


def list_exports(settings: Settings) -> list[DataExport]:
    """Every account, by name."""
    with _store(settings) as store:
        return store.exports()


def show_export(settings: Settings, name: str) -> DataExport:
    with _store(settings) as store:
        return _find(store, name)


def disable_export(settings: Settings, name: str) -> DataExport:
    """Disable an account: its tokens stop working at once and the token call refuses it."""
    with _store(settings) as store:
        export = _find(store, name)
        store.set_disabled(export.id, True)
        logger.info("disabled data export %s", export.client_id)
        return store.export_by_id(export.id)


def enable_export(settings: Settings, name: str) -> DataExport:
    with _store(settings) as store:
        export = _find(store, name)
        store.set_disabled(export.id, False)
        logger.info("enabled data export %s", export.client_id)
        return store.export_by_id(export.id)


def export_state(export: DataExport) -> str:
    if export.disabled_at:
        return "disabled"
    if not export.accepted_at:
        return "waiting for the contact to accept the terms"
    if not export.has_secret:
        return "secret revoked; waiting for the contact to open the new link"
    return "active"


def describe_export(export: DataExport) -> str:
    """`exports show`: the account, its state and every permission; never a secret."""
    lines = [
        f"Data export: {export.name}",
        f"  contact: {export.contact_first_name} {export.contact_last_name} "
        f"<{export.contact_email}>",
        f"  client id: {export.client_id}",
        f"  state: {export_state(export)}",
        f"  terms accepted: {export.accepted_at or 'not yet'}",
        f"  secret issued: {export.secret_issued_at or 'never'}",
        f"  SFTP push: {_describe_sftp(export.sftp)}",
    ]
    for permission in export.permissions:
        extra = ", unknown fields as @" if permission.replace_unknown else ""
        lines.append(f"  {permission.endpoint}: max page size {permission.max_page_size}{extra}")
        for option, rule in permission.options.items():
            default = rule.get("default")
            override = "caller may override" if rule.get("allow_override") else "fixed"
            lines.append(f"    {option:<16} default {default or '(none)':<12} {override}")
    return "\n".join(lines)


def _describe_sftp(sftp: Mapping[str, Any] | None) -> str:
    if not sftp:
        return "none"
    port = sftp.get("port", 22)
    return f"{sftp['username']}@{sftp['host']}:{port}{sftp.get('remote_dir', '/')}"
