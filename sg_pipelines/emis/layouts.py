"""Record layouts: element ids, names, widths and order of each fixed-width record.

Every element says where it comes from and whether a public source confirms it. What the public
record does not give is marked here and nowhere else: the GE bytes after GE180 (IC extracts
300-byte GE records), every FD, FE and GQ element id except FD100-FD200, and the Pre-ID layout
(ODE's is not public). A district's EMIS coordinator corrects a layout by editing its tuple
below: the builders never read this module, only the renderer does (`fixed_width.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sg_pipelines.emis.code_lists import NOT_APPLICABLE_DATE, not_applicable

Kind = Literal["constant", "code", "date", "number", "flags"]
Owner = Literal["us", "sis"]


@dataclass(frozen=True)
class Element:
    """One element of a record.

    Args:
        element_id: the EMIS element id (`GE110`), or None where it is not public.
        name: the element's name in the sources.
        column: the record column it is rendered from (for constants, the constant itself).
        width: characters in the fixed-width record.
        kind: how the value is rendered: `code` left-aligned text, `number` zero-padded on the
            left, `date` YYYYMMDD, `constant` the fixed value, `flags` Y/N per listed option.
        owner: `sis` for fields Campus owns (FD): null here, `@` when asked.
        confirmed: a public source states the element's id, width and position.
        source: tags of ../shared/docs/reference/emis.md.
    """

    element_id: str | None
    name: str
    column: str
    width: int
    kind: Kind = "code"
    owner: Owner = "us"
    confirmed: bool = False
    source: str = ""
    options: tuple[str, ...] = ()

    @property
    def fill(self) -> str:
        """The state's not-applicable fill for this element."""
        return NOT_APPLICABLE_DATE if self.kind == "date" else not_applicable(self.width)


@dataclass(frozen=True)
class Layout:
    """A record's elements in order, and its total length when known (padded with spaces)."""

    record: str
    elements: tuple[Element, ...]
    record_length: int | None = None
    note: str = ""

    @property
    def width(self) -> int:
        return max(self.record_length or 0, sum(element.width for element in self.elements))


def _header(prefix: str, sort_type: str, confirmed: bool, source: str) -> tuple[Element, ...]:
    ids = (f"{prefix}010", f"{prefix}020", f"{prefix}040", f"{prefix}050")
    if not confirmed:
        ids = (None, None, None, None)
    return (
        Element(ids[0], "Sort Type", sort_type, 2, "constant", confirmed=confirmed, source=source),
        Element(ids[1], "Fiscal Year", "fiscal_year", 4, "number", confirmed=confirmed,
                source=source),
        Element(ids[2], "Building IRN", "building_irn", 6, "number", confirmed=confirmed,
                source=source),
        Element(ids[3], "EMIS Student ID", "emis_student_id", 9, "code", confirmed=confirmed,
                source=source),
    )  # fmt: skip


GE = Layout(
    "GE",
    (
        *_header("GE", "GE", True, "SG-XWALK")[:2],
        Element("GE030", "Data Set", "S", 1, "constant", confirmed=True, source="SG-XWALK"),
        *_header("GE", "GE", True, "SG-XWALK")[2:],
        Element("GE100", "Date Type", "date_type", 4, confirmed=True, source="SG-XWALK"),
        Element("GE110", "Date", "event_date", 8, "date", confirmed=True, source="SG-XWALK"),
        Element("GE120", "Outcome ID", "outcome_id", 4, source="SG-XWALK (width from fill)"),
        Element("GE130", "Non-Compliance ID", "non_compliance_id", 2, source="SG-XWALK"),
        Element("GE140", "Outcome Beginning Date", "outcome_begin_date", 8, "date",
                confirmed=True, source="SG-XWALK"),
        Element("GE150", "Outcome End Date", "outcome_end_date", 8, "date", confirmed=True,
                source="SG-XWALK"),
        Element("GE160", "IEP Test Type", "iep_test_type", 3, source="SG-XWALK (width from fill)"),
        Element("GE170", "Secondary Planning", "secondary_planning", 4,
                source="SG-XWALK (width from fill)"),
        Element("GE180", "Extended School Year Services", "extended_school_year", 1,
                source="SG-XWALK (one rendering only)"),
    ),
    record_length=300,
    note="IC extracts 300-byte GE records (IC-GE); the bytes after GE180 are spaces here until "
    "the current EMIS Manual's GE section is checked.",
)  # fmt: skip

FD = Layout(
    "FD",
    (
        *_header("FD", "FD", False, "CH5-FY12 (record order only)"),
        Element(None, "Effective Start Date", "effective_start_date", 8, "date", source="PS-FD"),
        Element(None, "Effective End Date", "effective_end_date", 8, "date", source="PS-FD"),
        Element(None, "Disability Condition", "disability_condition", 2, source="IC-FD; SG-ODBC"),
        Element(None, "Section 504 Plan", "section_504_plan", 1, source="PSSP-OH; ESP-FD"),
        Element("FD100", "Attendance Pattern Override", "attendance_pattern_override", 1,
                owner="sis", source="ESP-FD (width inferred)"),
        Element("FD110", "Disadvantagement", "disadvantagement", 1, owner="sis",
                source="ESP-FD (width inferred)"),
        Element("FD190", "Foreign Exchange Grad Plan", "foreign_exchange_grad_plan", 1,
                owner="sis", source="ESP-FD (width inferred)"),
        Element("FD200", "Immigrant Status", "immigrant_status", 1, owner="sis",
                source="ESP-FD (width inferred)"),
    ),
    note="FD's full element order is not public: only FD100-FD200 are named (ESP-FD). Widths "
    "and order here are inferred.",
)  # fmt: skip

FE = Layout(
    "FE",
    (
        *_header("FE", "FE", False, "FE-DOC (record exists; layout not public)"),
        Element(None, "Date Type", "date_type", 4, source="FE-DOC (matches GE100)"),
        Element(None, "Date", "event_date", 8, "date", source="FE-DOC (matches GE110)"),
        Element(None, "Assessment Area", "assessment_area", 4, source="FE-DOC (codes inferred)"),
        Element(None, "Exemption", "exemption", 1, source="FE-DOC (granted Y / removed N)"),
    ),
    note="The FE element list is not public (emis.md §4): everything but the GE match on date "
    "type and date is inferred.",
)

GQ = Layout(
    "GQ",
    (
        *_header("GQ", "GQ", False, "IC-GQ; PS-GQ"),
        Element(None, "Program Code", "program_code", 6, source="PS-GQ; PSSP-OH"),
        Element(None, "Program Start Date", "program_start_date", 8, "date", source="PSSP-OH"),
        Element(None, "Program Exit Date", "program_end_date", 8, "date", source="PSSP-OH"),
        Element(
            None,
            "Staff ID",
            "staff_id",
            10,
            owner="sis",
            source="PSSP-OH (220100 needs it; width inferred)",
        ),
    ),
    note="GQ element ids and widths are not public; PowerSchool names the fields (PSSP-OH).",
)

PRE_ID = Layout(
    "PREID",
    (
        Element(None, "EMIS Student ID", "emis_student_id", 9, source="IC-PREID (matching key)"),
        Element(None, "Building IRN", "building_irn", 6, "number", source="inferred"),
        Element(None, "IEP", "iep", 1, source="SG-PREID"),
        Element(None, "504 Plan", "section_504_plan", 1, source="SG-PREID; ETL-REPO"),
        Element(None, "English Learner", "english_learner", 1, source="SG-PREID"),
        Element(None, "Test Type", "test_type", 3, source="FA-FY12 (STR/ALT)"),
        Element(None, "Accommodations", "accommodations", 7, "flags", source="ODE-ACC",
                options=(
                    "extended_time", "read_aloud", "text_to_speech", "small_group",
                    "separate_setting", "scribe", "calculator",
                )),
        Element(None, "Effective Date", "effective_date", 8, "date", source="SG-PREID"),
    ),
    note="ODE's Pre-ID layout is not public (emis.md §9): this is our own row, which Campus "
    "merges into its Pre-ID extract by EMIS Student ID. Fillers are not reproduced.",
)  # fmt: skip

LAYOUTS: dict[str, Layout] = {
    "emis_ge": GE,
    "emis_fd": FD,
    "emis_fe": FE,
    "emis_gq": GQ,
    "ohio_pre_id": PRE_ID,
}
