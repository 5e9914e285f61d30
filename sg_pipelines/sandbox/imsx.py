"""OneRoster `imsx_StatusInfoDType` failure bodies and the exception that carries them."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

CODE_MINOR_BY_STATUS = {
    400: "invalid_selection_field",
    401: "unauthorisedrequest",
    403: "forbidden",
    404: "unknownobject",
    422: "invaliddata",
    429: "server_busy",
    500: "internal_server_error",
    502: "server_busy",
    503: "server_busy",
}


def status_info(description: str, code_minor: str) -> dict[str, object]:
    """The imsx body OneRoster defines for every failure."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": code_minor,
                }
            ]
        },
    }


def failure_response(
    status: int,
    description: str,
    code_minor: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response holding an imsx failure body."""
    body = status_info(description, code_minor or CODE_MINOR_BY_STATUS.get(status, "invaliddata"))
    return Response(
        json.dumps(body).encode(),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


class OneRosterError(Exception):
    """A failure the server answers with an imsx body."""

    def __init__(
        self,
        status: int,
        description: str,
        code_minor: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.code_minor = code_minor
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The HTTP response for this failure."""
        return failure_response(self.status, self.description, self.code_minor, self.headers)
