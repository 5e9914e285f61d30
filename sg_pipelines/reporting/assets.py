"""After each publish, push every active data export's permitted record sets over SFTP."""

import os
import re

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from sg_pipelines.appdb.exports import ExportStore
from sg_pipelines.emis.snapshot import current_snapshot
from sg_pipelines.reporting.sftp_push import PushTarget, alert_failed_pushes, push_snapshot
from sg_pipelines.resources import SettingsResource

PASSWORD_ENV_PREFIX = "SG_EXPORT_SFTP_PASSWORD_"
KNOWN_HOSTS_ENV = "SG_EXPORT_SFTP_KNOWN_HOSTS"


def password_env(export_name: str) -> str:
    """`SG_EXPORT_SFTP_PASSWORD_CAMPUS_EMIS` for the export 'Campus EMIS'.

    Without it the push authenticates with the account's SSH keys (~/.ssh), as ssh would.
    """
    return PASSWORD_ENV_PREFIX + re.sub(r"[^A-Z0-9]+", "_", export_name.upper()).strip("_")


@asset(
    group_name="emis",
    deps=[AssetKey("report_snapshot")],
    kinds={"sftp"},
    description="The fixed-width record sets each active data export with an SFTP target "
    "receives after a publish; a failed push mails that export's contact and is retried after "
    "the next publish.",
)
def export_sftp_push(
    context: AssetExecutionContext, settings: SettingsResource
) -> MaterializeResult:
    current = settings.load()
    snapshot = current_snapshot(current.home)
    if snapshot is None:
        return MaterializeResult(metadata={"pushed": 0, "note": "no published snapshot yet"})

    with ExportStore(current.app_database) as store:
        exports = [export for export in store.exports() if export.active]
    targets = [
        target
        for export in exports
        if (
            target := PushTarget.from_export(
                export,
                password=os.environ.get(password_env(export.name)),
                known_hosts=os.environ.get(KNOWN_HOSTS_ENV),
            )
        )
    ]
    if not targets:
        return MaterializeResult(metadata={"pushed": 0, "note": "no export pushes over SFTP"})

    results = push_snapshot(snapshot, targets)
    mailed = alert_failed_pushes(current.smtp, targets, results)
    failed = [result for result in results if not result.ok]
    if failed:
        # the district's run-failure alert would repeat the contacts' own mails: warn instead
        context.log.warning(
            f"{len(failed)} of {len(results)} SFTP pushes failed; {mailed} contacts mailed"
        )
    return MaterializeResult(
        metadata={
            "snapshot": snapshot.name,
            "pushed": len(results) - len(failed),
            "failed": len(failed),
            "results": [result.metadata() for result in results],
        }
    )


reporting_assets = [export_sftp_push]
