"""Outgoing notices: plain-text mail through the district's relay, and failure alerts.

`send_mail` is the one way this project sends mail (data-export invitations and alerts alike).
`build_alert_sensors` returns the Dagster sensors that mail the district's contact when a run
fails for good; the reporting API calls `auth_failure_burst` (with `AuthFailureMonitor` to
decide when) and the SFTP push's caller calls `push_failure_alert`.
"""

from sg_pipelines.notify.alerts import (
    AuthFailureMonitor,
    auth_failure_burst,
    build_alert_sensors,
    push_failure_alert,
)
from sg_pipelines.notify.mail import MailError, send_mail

__all__ = [
    "AuthFailureMonitor",
    "MailError",
    "auth_failure_burst",
    "build_alert_sensors",
    "push_failure_alert",
    "send_mail",
]
