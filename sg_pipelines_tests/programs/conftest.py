"""The flag assets read the newest day from their run's creation time; the tests pin it to the
session's start, so a session that crosses midnight in the district still pushes its day."""

import pytest

from sg_pipelines.programs import flag_assets
from sg_pipelines_tests.programs.flag_helpers import SESSION_NOW


@pytest.fixture(autouse=True)
def _runs_created_at_session_start(monkeypatch):
    monkeypatch.setattr(flag_assets, "run_created_at", lambda context: SESSION_NOW)
