"""Ohio EMIS code lists the record builders use, each entry with its source and status.

Sources are the tags of `../shared/docs/reference/emis.md` (SG-XWALK: SameGoal's EMIS
crosswalk; TOOL-12/TOOL-NC: ODE's data collection tool; ACCESS-12: FY13 changes; FA-FY12: EMIS
Manual 2.4, Student Assessment Record). `confirmed` means a public source states the value;
`False` means we inferred it, and a district's EMIS coordinator should check it against the
current EMIS Manual. Correcting a code means changing this file only: the SQL receives these
lists as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

# Not-applicable fills (SG-XWALK): code elements are `*` to their width, dates are zeros.
NOT_APPLICABLE_CHAR = "*"
NOT_APPLICABLE_DATE = "00000000"
# Partner-side "unknown, keep the SIS value" marker for FD fields this system does not own
# (INFERRED, emis.md §8): rendered only when the caller asks for it, never a state value.
UNKNOWN_CHAR = "@"


def not_applicable(width: int) -> str:
    """The state's not-applicable fill for a code element of this width."""
    return NOT_APPLICABLE_CHAR * width


@dataclass(frozen=True)
class Code:
    """One code: its value, what it means, where it comes from, and whether a source says so."""

    code: str
    meaning: str
    source: str
    confirmed: bool = True


def _codes(*codes: Code) -> dict[str, Code]:
    return {code.code: code for code in codes}


# GE100 Date Type: the special-education events, by the plan-system document that records them.
DATE_TYPES = _codes(
    Code("RFRL", "referral for evaluation (referral date on the initial ETR)", "SG-XWALK; TOOL-09"),
    Code("CNST", "parent consent for evaluation (consent date on the ETR)", "SG-XWALK; TOOL-12"),
    Code("IETR", "initial evaluation team report", "SG-XWALK; TOOL-NC"),
    Code("RETR", "re-evaluation team report", "SG-XWALK; TOOL-NC"),
    Code("TETR", "transfer-student ETR adoption", "SG-XWALK; TOOL-12"),
    Code("IIEP", "initial IEP", "TOOL-NC; TOOL-12"),
    Code("RIEP", "periodic (annual) IEP review", "TOOL-NC; TOOL-12"),
    Code("TIEP", "transfer-student IEP adoption", "TOOL-12"),
    Code("AIEP", "amended IEP", "ACCESS-12; TOOL-12"),
)
# PSTC, PISP, NIEP, SEMD, FIEP and CIEP are listed by the reference but the plan system keeps no
# document for them, so no GE record of those types is built.
DOCUMENT_DATE_TYPES = {
    "etr_initial": "IETR",
    "etr_reevaluation": "RETR",
    "etr_transfer": "TETR",
    "iep_initial": "IIEP",
    "iep_annual": "RIEP",
    "iep_transfer": "TIEP",
    "iep_amendment": "AIEP",
}
EVALUATION_DATE_TYPES = ("IETR", "RETR", "TETR")
IEP_DATE_TYPES = ("IIEP", "RIEP", "TIEP", "AIEP")
# IC's "Pull Prior IEPs/Evals" (IC-GE R1.BR1): the most recent of each group before the start.
PRIOR_EVALUATION_DATE_TYPES = ("IETR", "RETR", "TETR", "CNST", "RFRL")
PRIOR_PLAN_DATE_TYPES = ("IIEP", "RIEP", "TIEP")

# GE120 Outcome ID.
CONSENT_OUTCOMES = _codes(
    Code("CNGI", "consent granted for initial evaluation", "ACCESS-12"),
    Code("CNGR", "consent granted for re-evaluation", "ACCESS-12"),
    Code("CNGO", "consent granted, other evaluation", "ACCESS-12; SG-XWALK", confirmed=False),
    Code("CNRF", "consent refused", "TOOL-09", confirmed=False),
    Code("CNNR", "no response", "SG-XWALK", confirmed=False),
    Code("CNDP", "due process", "SG-XWALK", confirmed=False),
)
# Disability condition (FD) and the ETnn outcomes; 07 and 11 are retired (CVCC, TOOL-12).
DISABILITY_CONDITIONS = _codes(
    Code("01", "multiple disabilities", "CVCC", confirmed=False),
    Code("02", "deaf-blindness", "CVCC", confirmed=False),
    Code("03", "hearing impairment", "CVCC", confirmed=False),
    Code("04", "visual impairment", "CVCC", confirmed=False),
    Code("05", "speech or language impairment", "CVCC", confirmed=False),
    Code("06", "orthopedic impairment", "CVCC", confirmed=False),
    Code("08", "emotional disturbance", "CVCC", confirmed=False),
    Code("09", "cognitive (intellectual) disability", "CVCC", confirmed=False),
    Code("10", "specific learning disability", "CVCC", confirmed=False),
    Code("12", "autism", "CVCC", confirmed=False),
    Code("13", "traumatic brain injury", "CVCC", confirmed=False),
    Code("14", "other health impairment (major)", "CVCC", confirmed=False),
    Code("15", "other health impairment (minor)", "CVCC", confirmed=False),
    Code("16", "developmental delay", "SG-XWALK; TOOL-12", confirmed=False),
)
DISABILITY_NOT_APPLICABLE = "**"  # SG-ODBC: no eligible ETR
EVALUATION_OUTCOMES = _codes(
    Code("ETNE", "not eligible", "TOOL-09; SG-XWALK"),
    Code("ETEX", "exited, no longer eligible", "SG-XWALK", confirmed=False),
    Code("ETDP", "due process", "SG-XWALK", confirmed=False),
    *(
        Code(f"ET{code}", f"eligible: {entry.meaning}", "TOOL-NC; TOOL-12; SG-XWALK")
        for code, entry in DISABILITY_CONDITIONS.items()
    ),
)
INELIGIBLE_OUTCOMES = ("ETNE", "ETEX")
IEP_OUTCOMES = _codes(
    Code("IENS", "IEP outcome (meaning not public)", "TOOL-NC", confirmed=False),
    Code("IEPR", "IEP outcome (meaning not public)", "TOOL-NC", confirmed=False),
    Code("IEDP", "IEP outcome (meaning not public)", "TOOL-NC", confirmed=False),
)
# Least-restrictive-environment (placement) outcomes; an IEP's GE120 is its placement, else its
# IENS/IEPR/IEDP outcome (INFERRED from TOOL-12 listing both under the IEP events).
PLACEMENT_OUTCOMES = _codes(
    *(
        Code(code, "least restrictive environment (placement)", "TOOL-12; ACCESS-12")
        for code in (
            "IE13", "IE14", "IE15", "IE16", "IE17", "IE18", "IE19", "IE20", "IE38", "IE39",
            "IE51", "IE53", "IE55", "IE56", "IE60", "IE62", "IE64", "IE70", "IE72", "IECF",
        )
    )
)  # fmt: skip

# GE130 Non-Compliance ID: 01-09 when a federal timeline was missed (meanings not public).
NON_COMPLIANCE_IDS = tuple(f"{number:02d}" for number in range(1, 10))
# The timelines checked (TOOL-09, TOOL-NC): an initial ETR within 60 days of consent, a
# re-evaluation within 3 years of the previous ETR. INFERRED: the IEP timelines are not
# reported through GE130 (the reference lists non-compliance on IETR/RETR only).
INITIAL_EVALUATION_DAYS = 60
REEVALUATION_YEARS = 3

# GE160 IEP Test Type (3 characters): no public list for GE160. EMIS's assessment record uses
# STR (standard format, with or without accommodations) and ALT (alternate) (FA-FY12).
IEP_TEST_TYPES = {
    "standard": Code("STR", "standard format", "FA-FY12", confirmed=False),
    "with_accommodations": Code("STR", "standard format with accommodations", "FA-FY12", False),
    "alternate": Code("ALT", "alternate assessment", "FA-FY12", confirmed=False),
}

# GE170 Secondary Planning (4 characters): no public code list. Reported only when the plan
# system stores a 4-character code; a yes/no answer alone gives the not-applicable fill.
SECONDARY_PLANNING_PATTERN = "[A-Z0-9]{4}"

# GE180 Extended School Year Services (1 character), INFERRED Y/N from the IEP's ESY answer.
EXTENDED_SCHOOL_YEAR = {True: "Y", False: "N"}

# FD Section 504 Plan indicator (PSSP-OH: "Student is Eligible under 504 = YES").
SECTION_504_YES, SECTION_504_NO = "Y", "N"

# FE assessment areas: element codes not public (emis.md §4). INFERRED short names.
GRADUATION_ASSESSMENT_AREAS = {
    "ela": Code("ELA", "English language arts", "FE-DOC", confirmed=False),
    "mathematics": Code("MATH", "mathematics", "FE-DOC", confirmed=False),
    "science": Code("SCI", "science", "FE-DOC", confirmed=False),
    "social_studies": Code("SOC", "social studies", "FE-DOC", confirmed=False),
}
EXEMPTION_GRANTED, EXEMPTION_REMOVED = "Y", "N"

# GQ program codes come from the documents (`fields.program_codes`): the plan team chose them.
# The families known publicly, for reference (PS-GQ, SG-ODBC, NOACSC, IC-GQ).
PROGRAM_CODE_FAMILIES = _codes(
    Code(
        "210xxx", "special-education settings and services (210013 SE outside reg class)", "PS-GQ"
    ),
    Code("215xxx", "related services", "SG-ODBC; PSSP-OH"),
    Code("217xxx", "preschool special education", "NOACSC"),
    Code("220100", "preschool special-education itinerant services", "NOACSC; PSSP-OH"),
    Code("2350xx", "English-learner service types 235012-235099", "IC-GQ"),
)
PROGRAM_CODE_WIDTH = 6

# Pre-ID: the test accommodations the plan system records, in the order the Pre-ID row
# carries them (INFERRED: the ODE Pre-ID layout's own field names are not public).
PRE_ID_ACCOMMODATIONS = (
    "extended_time",
    "read_aloud",
    "text_to_speech",
    "small_group",
    "separate_setting",
    "scribe",
    "calculator",
)
PRE_ID_PLAN_TYPES = ("IEP", "504", "EL")


def valid(codes: dict[str, Code]) -> list[str]:
    """The code values of a list, as the SQL receives them."""
    return sorted({entry.code for entry in codes.values()})
