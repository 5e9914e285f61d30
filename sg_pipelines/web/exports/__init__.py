"""Data exports: the admin functions behind `sg-pipelines exports ...`, and the pages where an
account's contact accepts the terms and sees the client credentials once."""

from sg_pipelines.web.exports.accept import ACCEPT_ROUTES

__all__ = ["ACCEPT_ROUTES"]
