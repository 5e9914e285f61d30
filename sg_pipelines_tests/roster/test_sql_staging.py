"""The staging SQL against the pydantic models: same rows, quarantine and warnings.

Every record runs through both paths: the model path (`parse_records`, as for any record the
SQL is not certain of) and the SQL path (`stage_pages`). The SQL may hand a record to the model,
but never import one differently; canonical records must stay on the SQL path.
"""

import json
from datetime import UTC, datetime
from itertools import count

import duckdb
import pytest

from sg_pipelines.roster.collections import (
    CLASSES,
    DEMOGRAPHICS,
    ENROLLMENTS,
    USERS,
    Collection,
)
from sg_pipelines.roster.page_files import PageFile, PageFiles
from sg_pipelines.roster.parsing import parse_records
from sg_pipelines.roster.staging import (
    BatchStaging,
    create_staging,
    define_staging_macros,
    ensure_schema,
    insert_pages,
    record_staged_warnings,
    stage_pages,
    stage_uncertain,
    write_page,
)
from sg_pipelines.sandbox.generator import generate_district
from sg_pipelines_tests.roster.fake_provider import enrollment, user
from sg_pipelines_tests.roster.test_models import (
    DATES,
    EMIS_STUDENT_IDS,
    FLAGS,
    INSTANTS,
    REFUSED_FLAGS,
)

NOW = datetime(2025, 3, 5, tzinfo=UTC)
sync_ids = count()


@pytest.fixture(scope="module")
def conn():
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    ensure_schema(conn)
    yield conn
    conn.close()


def staged(conn, collection: Collection, records: list, *, by_sql: bool):
    """Rows, quarantine and warnings of `records`, and how many went through the model."""
    sync_id = f"s{next(sync_ids)}"
    create_staging(conn, collection)
    if by_sql:
        with PageFiles(collection) as page_files:
            page = page_files([json.dumps({collection.envelope: records}).encode()])
            by_model = stage_pages(conn, collection, [page], sync_id, NOW)
        record_staged_warnings(conn, collection, sync_id, NOW)
    else:
        write_page(conn, collection, parse_records(collection, records), sync_id, NOW)
        by_model = len(records)

    # JSON is compared as values: Python and DuckDB write the same JSON with different spacing
    json_columns = {
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM duckdb_columns()"
            " WHERE database_name || '.' || table_name = ? AND data_type = 'JSON'",
            [collection.staging_table],
        ).fetchall()
    }
    rows = sorted(
        tuple(
            json.loads(value) if name in json_columns and value is not None else value
            for name, value in zip(collection.columns, row, strict=True)
        )
        for row in conn.execute(
            f"SELECT {', '.join(collection.columns)} FROM {collection.staging_table}"
        ).fetchall()
    )
    quarantined = conn.execute(
        "SELECT sourced_id, reason, record::VARCHAR FROM roster_quarantine WHERE sync_id = ?"
        " ORDER BY ALL",
        [sync_id],
    ).fetchall()
    warnings = conn.execute(
        "SELECT sourced_id, field, reason FROM roster_warnings WHERE sync_id = ? ORDER BY ALL",
        [sync_id],
    ).fetchall()
    return (rows, quarantined, warnings), by_model


def assert_paths_agree(conn, collection, records, *, canonical: bool) -> None:
    by_model, _ = staged(conn, collection, records, by_sql=False)
    by_sql, model_count = staged(conn, collection, records, by_sql=True)

    assert by_sql == by_model
    if canonical:
        assert model_count == 0, "a canonical record left the SQL path"


CANONICAL_ENROLLMENTS = [
    enrollment("e-1", "u-1"),
    *(enrollment("e-1", "u-1", primary=value) for value, _ in FLAGS),
    *(enrollment("e-1", "u-1", beginDate=value) for value, _, _ in DATES),
    *(enrollment("e-1", "u-1", endDate=value) for value, _, _ in DATES),
    *(enrollment("e-1", "u-1", dateLastModified=value) for value, _ in INSTANTS),
    *(enrollment("e-1", "u-1", status=value) for value in ("inactive", "tobedeleted", "ACTIVE")),
    enrollment("e-1", "u-1", user="u-1", **{"class": "cls-1", "school": None}),
    enrollment("e-1", "u-1", **{"class": {"type": "class"}}, dateLastModified=None, role=7),
]

UNUSUAL_INSTANTS = [
    "2025-02-30T10:00:00Z", "2025-03-04", "2025-03-04T10:00:00+0500", "yesterday", 5, "",
    "2025-03-04T10:00:00.1234567Z", "0000-01-01T00:00:00Z",
]  # fmt: skip
WIDE_DIGITS_DATE = "\uff12\uff10\uff11\uff12-01-02"  # digits to Python's \d, not to [0-9]
UNUSUAL_ENROLLMENTS = [
    *(enrollment("e-1", "u-1", primary=value) for value in REFUSED_FLAGS),
    *(enrollment("e-1", "u-1", primary=value) for value in (" true", "TRUE ", {"v": 1})),
    *(enrollment("e-1", "u-1", dateLastModified=value) for value in UNUSUAL_INSTANTS),
    *(enrollment("e-1", "u-1", beginDate=value) for value in (2012, WIDE_DIGITS_DATE, [], True)),
    *(enrollment("e-1", "u-1", status=value) for value in ("weird", None, " active", 1)),
    *(enrollment("e-1", "u-1", user=value) for value in ("", None, {}, {"sourcedId": ""}, [])),
    enrollment("e-1", "u-1", user={"sourcedId": 5}),
    enrollment("e-1", "u-1", school=["sch-1"]),
    enrollment("e-1", "u-1", role=1.5),
    enrollment("e-1", "u-1", role=True),
    enrollment("", "u-1"),
    enrollment(7, "u-1"),
    {"user": {"sourcedId": "u-1"}},
    "not an object",
    None,
    [enrollment("e-1", "u-1")],
]


@pytest.mark.parametrize("record", CANONICAL_ENROLLMENTS)
def test_canonical_enrollments_are_staged_by_sql_as_the_model_would(conn, record):
    assert_paths_agree(conn, ENROLLMENTS, [record], canonical=True)


@pytest.mark.parametrize("record", UNUSUAL_ENROLLMENTS)
def test_unusual_enrollments_are_imported_or_quarantined_as_the_model_would(conn, record):
    assert_paths_agree(conn, ENROLLMENTS, [record], canonical=False)


@pytest.mark.parametrize("collection", [ENROLLMENTS, USERS, DEMOGRAPHICS, CLASSES])
def test_a_generated_district_stays_on_the_sql_path(conn, collection):
    district = generate_district(20, 7)
    records = [district.get(collection.name, id) for id in district.sorted_ids(collection.name)]

    assert_paths_agree(conn, collection, records, canonical=True)


@pytest.mark.parametrize("collection", [ENROLLMENTS, USERS, DEMOGRAPHICS, CLASSES])
def test_a_generated_district_is_read_once_by_the_fast_source(conn, collection):
    district = generate_district(20, 7)
    records = [district.get(collection.name, id) for id in district.sorted_ids(collection.name)]

    create_staging(conn, collection)
    with PageFiles(collection) as page_files:
        page = page_files([json.dumps({collection.envelope: records}).encode()])
        define_staging_macros(conn, collection)
        insert_pages(conn, collection, [page])
    staged, read_again = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE needs_exact) FROM {collection.staging_table}"
    ).fetchall()[0]

    assert (staged, read_again) == (len(records), 0)


ORG_REF = {"sourcedId": "sch-1", "type": "org"}
UNCERTAIN_TO_THE_FAST_SOURCE = [
    # a missing status is active, a null one refused: both are NULL to the fast source
    (ENROLLMENTS, {k: v for k, v in enrollment("e-1", "u-1").items() if k != "status"}),
    (ENROLLMENTS, enrollment("e-1", "u-1", status=None)),
    # references it reads only as objects with a sourcedId
    (ENROLLMENTS, enrollment("e-1", "u-1", user="u-1")),
    (ENROLLMENTS, enrollment("e-1", "u-1", school=None)),
    (ENROLLMENTS, enrollment("e-1", "u-1", **{"class": {"type": "class"}})),
    # the first spelling of a preferred name, null, against the second
    (USERS, user("u-1", primaryOrg=ORG_REF, preferredFirstName=None, preferredGivenName="Al")),
    (USERS, user("u-1", primaryOrg=ORG_REF, preferredLastName=None, preferredFamilyName="Sm")),
    (USERS, user("u-1")),  # no primaryOrg
    (CLASSES, {"sourcedId": "c-1", "status": "active", "school": "sch-1"}),
    (DEMOGRAPHICS, {"sourcedId": "d-1"}),
]


@pytest.mark.parametrize(("collection", "record"), UNCERTAIN_TO_THE_FAST_SOURCE)
def test_records_the_fast_source_cannot_be_sure_of_are_read_again_exactly(conn, collection, record):
    create_staging(conn, collection)
    with PageFiles(collection) as page_files:
        page = page_files([json.dumps({collection.envelope: [record]}).encode()])
        define_staging_macros(conn, collection)
        insert_pages(conn, collection, [page])
    (read_again,) = conn.execute(
        f"SELECT count(*) FILTER (WHERE needs_exact) FROM {collection.staging_table}"
    ).fetchall()[0]

    assert read_again == 1
    assert_paths_agree(conn, collection, [record], canonical=False)


CANONICAL_USERS = [
    user("u-1"),
    *(user("u-1", enabledUser=value) for value, _ in FLAGS),
    *(user("u-1", dateLastModified=value) for value, _ in INSTANTS),
    *(user("u-1", metadata={"ic": {"emisStudentId": value}}) for value, _, _ in EMIS_STUDENT_IDS),
    user("u-1", preferredFirstName="Al", preferredLastName="Smith"),
    user("u-1", preferredGivenName="Al", preferredFamilyName="Smith"),
    user("u-1", preferredFirstName=None, preferredGivenName="Al"),
    user("u-1", roles=[{"roleType": "primary", "role": "ext:caseworker"}]),
    user(
        "u-1",
        roles=[
            {"roleType": "secondary", "role": "teacher"},
            {"roleType": "primary", "role": "aide"},
        ],
    ),
    user("u-1", roles=[{"roleType": "secondary", "role": "teacher"}]),
    user("u-1", roles=None, agents=None, grades=None, userIds=None, metadata=None),
    user("u-1", roles=[], agents=[], grades="", userIds=[]),
    user("u-1", agents=[{"sourcedId": "g-1", "type": "user"}, {"sourcedId": ""}, {"type": "user"}]),
    user("u-1", grades=["05", None, ""]),
    user("u-1", grades="05, 06,,07 "),
    user("u-1", metadata={"ic": {"stateId": "OH1"}}),
    user("u-1", metadata={"ic": {"stateId": 12}}),
    user("u-1", userIds=[{"type": "stateId", "identifier": "OH2"}]),
    user(
        "u-1",
        userIds=[{"type": "STATEID", "identifier": ""}, {"type": "stateid", "identifier": "3"}],
    ),
    user("u-1", metadata={"ic": "none"}, userIds=[{"type": "local", "identifier": "7"}]),
    user("u-1", givenName="Zoë", familyName=None, email="z@example.org", phone=5551234),
]

UNUSUAL_USERS = [
    *(user("u-1", enabledUser=value) for value in REFUSED_FLAGS),
    *(user("u-1", dateLastModified=value) for value in UNUSUAL_INSTANTS),
    *(
        user("u-1", metadata={"ic": {"emisStudentId": value}})
        for value in (
            "\t12345",
            -5,
            1.5,
            True,
            {"v": 1},
            1234567890,
            "\uff11\uff12\uff13",
        )
    ),
    user("u-1", metadata={"ic": {"stateId": {"v": 1}}}),
    user("u-1", metadata=[]),
    user("u-1", roles={"role": "student"}),
    user("u-1", roles=["student"]),
    user("u-1", roles=[{"roleType": "primary"}]),
    user("u-1", roles=[{"roleType": "primary", "role": 5}]),
    user("u-1", roles=[{"role": "student"}]),
    user("u-1", agents=["g-1"]),
    user("u-1", agents=[{"sourcedId": 5}]),
    user("u-1", agents="g-1"),
    user("u-1", grades=[5]),
    user("u-1", grades="05,\t06"),
    user("u-1", grades={"grade": "05"}),
    user("u-1", userIds=[{"type": 1, "identifier": "x"}]),
    user("u-1", userIds=[{"identifier": "x"}]),
    user("u-1", userIds={"type": "stateId"}),
    user("u-1", givenName=1.5),
    user("u-1", givenName=True),
    user("u-1", familyName=["a"]),
    user("u-1", primaryOrg=["sch-1"]),
    user("u-1", status="weird"),
    user("", "student"),
    {"givenName": "x"},
    "not an object",
    None,
]


@pytest.mark.parametrize("record", CANONICAL_USERS)
def test_canonical_users_are_staged_by_sql_as_the_model_would(conn, record):
    assert_paths_agree(conn, USERS, [record], canonical=True)


@pytest.mark.parametrize("record", UNUSUAL_USERS)
def test_unusual_users_are_imported_or_quarantined_as_the_model_would(conn, record):
    assert_paths_agree(conn, USERS, [record], canonical=False)


@pytest.mark.parametrize("record", CANONICAL_USERS + UNUSUAL_USERS)
def test_users_with_a_primary_org_are_staged_as_the_model_would(conn, record):
    # the generic test users have no primaryOrg, which the fast source leaves to the exact one
    if isinstance(record, dict) and "primaryOrg" not in record:
        record = {**record, "primaryOrg": ORG_REF}
    assert_paths_agree(conn, USERS, [record], canonical=False)


def demographics(sourced_id: str, **fields):
    record = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": "2025-03-01T12:00:00Z",
        "birthDate": "2012-01-02",
        "sex": "female",
        "white": "true",
        "hispanicOrLatinoEthnicity": "false",
        "countryOfBirthCode": "US",
    }
    record.update(fields)
    return record


CANONICAL_DEMOGRAPHICS = [
    demographics("d-1"),
    *(demographics("d-1", asian=value) for value, _ in FLAGS),
    *(demographics("d-1", birthDate=value) for value, _, _ in DATES),
    *(demographics("d-1", dateLastModified=value) for value, _ in INSTANTS),
    *(demographics("d-1", sex=value) for value in ("Female", "MALE", None, "", 1)),
    demographics("d-1", cityOfBirth="Zoë", stateOfBirthAbbreviation=None),
]

UNUSUAL_DEMOGRAPHICS = [
    *(demographics("d-1", white=value) for value in REFUSED_FLAGS),
    *(demographics("d-1", birthDate=value) for value in (2012, WIDE_DIGITS_DATE, {}, False)),
    *(demographics("d-1", sex=value) for value in ("FÉMALE", "\u212a", True, ["f"], 1.5)),
    demographics("d-1", cityOfBirth=["x"]),
    demographics("d-1", status="weird"),
    {"sex": "female"},
    "not an object",
]


@pytest.mark.parametrize("record", CANONICAL_DEMOGRAPHICS)
def test_canonical_demographics_are_staged_by_sql_as_the_model_would(conn, record):
    assert_paths_agree(conn, DEMOGRAPHICS, [record], canonical=True)


@pytest.mark.parametrize("record", UNUSUAL_DEMOGRAPHICS)
def test_unusual_demographics_are_imported_or_quarantined_as_the_model_would(conn, record):
    assert_paths_agree(conn, DEMOGRAPHICS, [record], canonical=False)


def a_class(sourced_id: str, **fields):
    record = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": "2025-03-01T12:00:00Z",
        "title": "Math 5",
        "classCode": "M5-1",
        "classType": "scheduled",
        "course": {"sourcedId": "crs-1", "type": "course"},
        "school": {"sourcedId": "sch-1", "type": "org"},
        "terms": [{"sourcedId": "term-1", "type": "academicSession"}],
        "grades": ["05"],
    }
    record.update(fields)
    return record


CANONICAL_CLASSES = [
    a_class("c-1"),
    *(a_class("c-1", dateLastModified=value) for value, _ in INSTANTS),
    a_class("c-1", terms=None, grades=None, course=None, school="sch-1"),
    a_class("c-1", terms=[], grades="05, 06", classCode=501),
    a_class("c-1", terms=[{"sourcedId": ""}, {"type": "term"}], grades=["05", None, ""]),
]

UNUSUAL_CLASSES = [
    a_class("c-1", terms=["term-1"]),
    a_class("c-1", terms="term-1"),
    a_class("c-1", grades=[5]),
    a_class("c-1", grades={"grade": "05"}),
    a_class("c-1", title=["x"]),
    a_class("c-1", course=["crs-1"]),
    a_class("c-1", dateLastModified="yesterday"),
    {"title": "x"},
    "not an object",
]


@pytest.mark.parametrize("record", CANONICAL_CLASSES)
def test_canonical_classes_are_staged_by_sql_as_the_model_would(conn, record):
    assert_paths_agree(conn, CLASSES, [record], canonical=True)


@pytest.mark.parametrize("record", UNUSUAL_CLASSES)
def test_unusual_classes_are_imported_or_quarantined_as_the_model_would(conn, record):
    assert_paths_agree(conn, CLASSES, [record], canonical=False)


def test_batches_staged_two_at_a_time_give_the_rows_of_one_page_at_a_time(conn):
    records = [
        *(enrollment(f"e-{n}", f"u-{n}", beginDate="2024-13-01" if n % 7 else None)
          for n in range(60)),
        enrollment("e-bad", "u-1", user=[]),  # not a reference: the model quarantines it
        enrollment("e-odd", "u-1", dateLastModified="2025-03-04T10:00:00+0500"),
    ]  # fmt: skip
    pages = [records[start : start + 9] for start in range(0, len(records), 9)]
    serial, _ = staged(conn, ENROLLMENTS, records, by_sql=True)

    sync_id = f"s{next(sync_ids)}"
    create_staging(conn, ENROLLMENTS)
    with PageFiles(ENROLLMENTS) as page_files:
        files = [page_files([json.dumps({"enrollments": page}).encode()]) for page in pages]
        with BatchStaging(conn, ENROLLMENTS, workers=2) as staging:
            for start in range(0, len(files), 2):
                staging.submit(files[start : start + 2])
        by_model = stage_uncertain(conn, ENROLLMENTS, sync_id, NOW)
        left = sorted(path.name for path in page_files.directory.iterdir())
    record_staged_warnings(conn, ENROLLMENTS, sync_id, NOW)

    rows = sorted(
        conn.execute(
            f"SELECT {', '.join(ENROLLMENTS.columns)} FROM {ENROLLMENTS.staging_table}"
        ).fetchall()
    )
    warnings = conn.execute(
        "SELECT sourced_id, field, reason FROM roster_warnings WHERE sync_id = ? ORDER BY ALL",
        [sync_id],
    ).fetchall()
    (quarantined,) = conn.execute(
        "SELECT count(*) FROM roster_quarantine WHERE sync_id = ?", [sync_id]
    ).fetchall()[0]
    assert (rows, warnings) == (serial[0], serial[2])
    assert quarantined == len(serial[1]) == 1
    assert by_model == 2
    assert left == [], "page files and staged-row files are deleted once appended"


def test_a_batch_that_fails_to_stage_fails_the_staging(conn, tmp_path):
    create_staging(conn, ENROLLMENTS)
    (tmp_path / "0.json").write_text("not JSON")
    broken = PageFile(tmp_path / "0.json", 1, 8)

    with pytest.raises(duckdb.Error), BatchStaging(conn, ENROLLMENTS, workers=2) as staging:
        staging.submit([broken])
