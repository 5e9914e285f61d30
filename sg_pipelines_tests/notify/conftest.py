"""The loopback SMTP server fixtures for the notify tests."""

from sg_pipelines_tests.smtp_server import smtp_server, smtp_settings

__all__ = ["smtp_server", "smtp_settings"]
