"""`GET /openapi.json`: the contract Campus and districts read (OpenAPI 3.1), built from the
same endpoint and option tables the API enforces, so it cannot drift from them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sg_pipelines.web.api.options import ENDPOINTS, OPTION_HELP, Endpoint
from sg_pipelines.web.api.records import BASE_PATH

OPTION_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1},
    "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
    "sort": {"type": "string"},
    "fiscalYear": {"type": "integer", "minimum": 2000, "maximum": 2100},
    "reportingPeriod": {"type": "string", "enum": ["K", "N", "G"]},
    "startDate": {"type": "string", "format": "date"},
    "endDate": {"type": "string", "format": "date"},
    "effectiveDate": {"type": "string", "format": "date"},
    "buildingIrn": {"type": "string", "pattern": "^[0-9]{6}$"},
    "emisStudentIds": {"type": "string", "pattern": "^[0-9]{1,9}(,[0-9]{1,9})*$"},
    "pullPrior": {"type": "boolean"},
    "includeInactive": {"type": "boolean"},
}
ERROR = {"$ref": "#/components/schemas/Error"}
VALUE = {"type": ["string", "integer", "number", "boolean", "null"]}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _record_schema(endpoint: Endpoint) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for element in endpoint.layout.elements:
        if element.kind == "constant":
            continue
        if element.kind == "date":
            schema: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{8}$"}
        elif element.kind == "flags":
            schema = {"type": "array", "items": {"type": "string", "enum": list(element.options)}}
        else:
            schema = dict(VALUE)
        schema["description"] = element.name + (
            " (Campus owns it: null, or `@` with the FD option)" if element.owner == "sis" else ""
        )
        properties[element.column] = schema
    return {"type": "object", "properties": properties, "required": list(properties)}


def _record_path(endpoint: Endpoint) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": OPTION_HELP[name],
            "schema": OPTION_SCHEMAS[name],
        }
        for name in endpoint.options
    ]
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "json (default) or fixed (the state's fixed-width records, CRLF)",
            "schema": {"type": "string", "enum": ["json", "fixed"]},
        }
    )
    page_headers = {
        "X-Total-Count": {"description": "records matching", "schema": {"type": "integer"}},
        "Link": {"description": "first, prev, next, last pages (RFC 8288)",
                 "schema": {"type": "string"}},
        "X-Ignored-Parameters": {"description": "parameters the account does not let the caller "
                                 "override, ignored", "schema": {"type": "string"}},
    }  # fmt: skip
    page = {
        "type": "object",
        "required": ["record", "total", "offset", "limit", "snapshot", "records"],
        "properties": {
            "record": {"type": "string"},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "snapshot": {"type": "string"},
            "records": {"type": "array", "items": _record_schema(endpoint)},
        },
    }
    return {
        "get": {
            "operationId": f"get_{endpoint.name}",
            "summary": endpoint.title,
            "description": (
                f"Needs a token with scope `{endpoint.scope}`. Options the account does not let "
                "the caller override are ignored (and named in X-Ignored-Parameters); limit is "
                "clamped to the account's maximum page size."
            ),
            "security": [{"oauth2": [endpoint.scope]}],
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "one page of records",
                    "headers": page_headers,
                    "content": {
                        "application/json": {"schema": page},
                        "text/plain": {"schema": {"type": "string"}},
                    },
                },
                "400": _json(ERROR, "malformed, unknown or repeated parameters"),
                "401": _json(ERROR, "no token, or an invalid one (WWW-Authenticate: Bearer)"),
                "403": _json(ERROR, "the token's account is not permitted this endpoint"),
                "503": _json(ERROR, "no report snapshot has been published yet"),
            },
        }
    }


def openapi_document(public_url: str) -> dict[str, Any]:
    """The whole document, for the API at `public_url`."""
    token_request = {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "description": "space-separated; all permitted if absent"},
            "client_id": {"type": "string", "description": "only without HTTP Basic"},
            "client_secret": {"type": "string", "description": "only without HTTP Basic"},
        },
    }
    token_response = {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer"},
            "scope": {"type": "string"},
        },
    }
    html = {"content": {"text/html": {"schema": {"type": "string"}}}}
    paths: dict[str, Any] = {
        "/oauth/token": {
            "post": {
                "operationId": "token",
                "summary": "client-credentials token (RFC 6749 §4.4)",
                "security": [{"clientBasic": []}, {}],
                "requestBody": {
                    "required": True,
                    "content": {"application/x-www-form-urlencoded": {"schema": token_request}},
                },
                "responses": {
                    "200": _json(token_response, "a bearer token; no refresh token"),
                    "400": _json(ERROR, "invalid_request, unsupported_grant_type, invalid_scope"),
                    "401": _json(ERROR, "invalid_client (WWW-Authenticate: Basic after Basic)"),
                    "429": _json(ERROR, "too many failed attempts from this client or address"),
                    "503": _json(ERROR, "the server's secret key is not configured"),
                },
            }
        },
        **{f"{BASE_PATH}/{e.name}": _record_path(e) for e in ENDPOINTS.values()},
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "liveness, and which report snapshot is served",
                "responses": {"200": _json({"type": "object"}, "the service is up")},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "this document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
            }
        },
        "/exports/accept/{token}": {
            "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "operationId": "acceptance_page",
                "summary": "the terms, for the contact who received the link",
                "responses": {
                    "200": {"description": "the terms and the accept button", **html},
                    "404": {"description": "unknown link", **html},
                    "410": {"description": "used or expired link", **html},
                },
            },
            "post": {
                "operationId": "accept_terms",
                "summary": "accept the terms; the page shows the client id and secret once",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["accept"],
                                "properties": {"accept": {"type": "string", "enum": ["yes"]}},
                            }
                        }
                    }
                },
                "responses": {
                    "200": {"description": "the credentials, once", **html},
                    "400": {"description": "the terms were not accepted", **html},
                    "404": {"description": "unknown link", **html},
                    "410": {"description": "used or expired link", **html},
                },
            },
        },
    }
    scopes = {e.scope: e.title for e in ENDPOINTS.values()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sg-pipelines reporting API",
            "version": "1.0.0",
            "description": "Ohio EMIS records (GE, FD, FE, GQ) and Pre-ID rows for Campus's "
            "State Reporting, from the district's published report snapshot. See "
            "docs/reporting-api.md.",
        },
        "servers": [{"url": public_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": scopes}},
                },
                "clientBasic": {"type": "http", "scheme": "basic"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "error_description": {"type": "string"},
                        "correlation_id": {"type": "string"},
                        "details": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "parameter": {"type": "string"},
                                    "problem": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
        },
    }


async def openapi(request: Request) -> Response:
    """`GET /openapi.json`."""
    document = openapi_document(request.app.state.api.settings.api.public_url)
    return JSONResponse(document, headers={"Cache-Control": "no-cache"})
