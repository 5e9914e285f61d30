"""The ASGI side-app Campus and staff reach: health, and (later) tokens, reporting and views."""

from sg_pipelines.web.app import create_app

__all__ = ["create_app"]
