"""How program flags reach Campus: the `FlagsGateway` interface and its two adapters.

The Dagster resource that opens one lives in `gateways/resource.py` (it reads the warehouse).
"""

from sg_pipelines.programs.gateways.base import (
    CampusFlag,
    ChangeResult,
    FlagChange,
    FlagProgram,
    FlagSetupError,
    FlagsGateway,
    GatewayError,
    ProgramFlag,
    participation_id,
)
from sg_pipelines.programs.gateways.campus_rest import CampusAuthError, CampusRestGateway
from sg_pipelines.programs.gateways.csv_sftp import CsvSftpGateway

__all__ = [
    "CampusAuthError",
    "CampusFlag",
    "CampusRestGateway",
    "ChangeResult",
    "CsvSftpGateway",
    "FlagChange",
    "FlagProgram",
    "FlagSetupError",
    "FlagsGateway",
    "GatewayError",
    "ProgramFlag",
    "participation_id",
]
