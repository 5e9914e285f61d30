"""The program rules (start, exit) as the GQ and Pre-ID queries receive them."""

from __future__ import annotations

from sg_pipelines.programs.rules import rule_rows


def rule_parameters() -> dict[str, list[str]]:
    """Parallel lists of program, document type and role, one entry per known type."""
    rows = rule_rows()
    return {
        "rule_programs": [program for program, _, _, _ in rows],
        "rule_types": [document_type for _, document_type, _, _ in rows],
        "rule_roles": [role for _, _, role, _ in rows],
    }
