"""The pages a staff member sees around a launch, rendered server-side from Jinja2 templates.

Every page is `no-store`, sends no referrer, runs no script, and may be framed only by the
registered Campus origins (CSP `frame-ancestors`). The one stylesheet is inline and allowed by
its hash. Pages never name a student unless the user may see that student's plan.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

STYLESHEET = """
body { font-family: system-ui, sans-serif; color: #1d2733; line-height: 1.45; margin: 0; }
main { max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0.2rem 0 1rem; }
h2 { font-size: 1.1rem; border-bottom: 1px solid #c9d1da; padding-bottom: 0.2rem; }
.program { text-transform: uppercase; letter-spacing: 0.05em; font-size: 0.8rem; margin: 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #c9d1da; padding: 0.3rem 0.5rem; text-align: left; }
.hint, .reference, footer { color: #4a5866; font-size: 0.9rem; }
.button { display: inline-block; padding: 0.5rem 1rem; background: #1f5fa8; color: #fff;
          border-radius: 4px; text-decoration: none; }
@media print { main { margin: 0; max-width: none; } .button { display: none; } }
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()

_templates = Environment(
    loader=PackageLoader("sg_pipelines.web.views", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_headers(frame_origins: Iterable[str]) -> dict[str, str]:
    """Headers for every LTI and view page: no caching, no referrer, framing by Campus only."""
    ancestors = " ".join(sorted(set(frame_origins))) or "'none'"
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; base-uri 'none'; "
            f"form-action 'none'; frame-ancestors {ancestors}"
        ),
    }


def render(
    template: str, status_code: int, frame_origins: Iterable[str], **context: object
) -> HTMLResponse:
    html = _templates.get_template(template).render(stylesheet=STYLESHEET, **context)
    return HTMLResponse(html, status_code=status_code, headers=page_headers(frame_origins))


@dataclass(frozen=True)
class Message:
    """A page that explains why no plan is shown and what to do."""

    title: str
    paragraphs: tuple[str, ...]
    status_code: int
    relaunch: bool = True


MESSAGES = {
    "expired": Message(
        "This launch has expired",
        (
            "The sign-in from Campus is no longer valid: it is a few minutes old, or the clocks of "
            "Campus and this server disagree.",
        ),
        401,
    ),
    "replayed": Message(
        "This launch was already used",
        (
            "Each click on a flag opens the plan once. Going back or reloading the page cannot "
            "open it again.",
        ),
        400,
    ),
    "view_expired": Message(
        "This view has expired",
        ("Plan views stay open for a short time only.",),
        410,
    ),
    "invalid": Message(
        "This launch could not be verified",
        ("The sign-in from Campus did not pass this server's checks, so no plan is shown.",),
        400,
    ),
    "misconfigured": Message(
        "This flag's link is not set up correctly",
        (
            "Campus did not say which student or program the flag is for. Ask your district's "
            "integration contact to check the LTI connection's custom parameters.",
        ),
        400,
        relaunch=False,
    ),
    "forbidden": Message(
        "You cannot view this plan",
        (
            "Your account cannot view this plan here. If you should, ask your district's "
            "integration contact.",
        ),
        403,
        relaunch=False,
    ),
    "unregistered": Message(
        "This Campus is not connected",
        (
            "This plan viewer has no connection for the Campus site or deployment that sent you. "
            "Ask your district's integration contact.",
        ),
        403,
        relaunch=False,
    ),
}


def message_page(kind: str, frame_origins: Iterable[str], reference: str = "") -> HTMLResponse:
    """One of the `MESSAGES` pages; `reference` is a code safe to show (never a value)."""
    message = MESSAGES[kind]
    return render(
        "message.html",
        message.status_code,
        frame_origins,
        title=message.title,
        paragraphs=message.paragraphs,
        relaunch=message.relaunch,
        reference=reference,
    )


def cookie_blocked_page(relaunch_url: str, frame_origins: Iterable[str]) -> HTMLResponse:
    """Fault B1: the browser kept no state cookie; offer the launch again in a new window."""
    return render(
        "cookie_blocked.html",
        400,
        frame_origins,
        title="Open the plan in a new window",
        relaunch_url=relaunch_url,
    )
