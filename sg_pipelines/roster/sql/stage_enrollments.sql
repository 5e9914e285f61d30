-- /enrollments pages (the JSON files $files) to staging rows, by the rules of models.Enrollment.
-- Three statements after the macros, put together by staging.py: two sources of `fields` and
-- the rows made of them. The fast source reads each page once into typed fields; a record it
-- cannot read with certainty is staged needs_exact (its page and position) and read again by the
-- exact source, which takes every listed record as JSON. A record the rules do not fully
-- understand is staged with needs_model and its JSON.

-- the references come last: of them only the kind is extracted from every record
CREATE OR REPLACE TEMP MACRO enrollment_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.user.sourcedId', '$.class.sourcedId',
    '$.school.sourcedId', '$.role', '$.primary', '$.beginDate', '$.endDate', '$.user', '$.class',
    '$.school'
];

-- exact: the records at $positions of one page $files
WITH paths AS (
    SELECT * FROM listed_records($files, $positions, 'enrollments', enrollment_paths(), 10)
)
SELECT
    * EXCLUDE (v, k),
    field(v, k, 1) AS sourced_id,
    field(v, k, 2) AS status,
    field(v, k, 3) AS date_last_modified,
    field(v, k, 4) AS user_sourced_id,
    field(v, k, 5) AS class_sourced_id,
    field(v, k, 6) AS school_sourced_id,
    field(v, k, 7) AS role,
    field(v, k, 8) AS is_primary,
    field(v, k, 9) AS begin_date,
    field(v, k, 10) AS end_date,
    ref_field(record, '$.user', k[11]) AS user_ref,
    ref_field(record, '$.class', k[12]) AS class_ref,
    ref_field(record, '$.school', k[13]) AS school_ref,
    true AS certain
FROM paths;

-- fast: every record of the pages $files; references read only as objects with a sourcedId
WITH records AS (
    SELECT * FROM typed_records(
        $files,
        '{"enrollments": [{"sourcedId": "JSON", "status": "JSON",
            "dateLastModified": "JSON", "user": {"sourcedId": "JSON"},
            "class": {"sourcedId": "JSON"}, "school": {"sourcedId": "JSON"},
            "role": "JSON", "primary": "JSON", "beginDate": "JSON", "endDate": "JSON"}]}',
        'enrollments'
    )
),
record_fields AS (
    SELECT
        * EXCLUDE (r),
        typed(r.sourcedId) AS sourced_id,
        typed(r.status) AS status,
        typed(r.dateLastModified) AS date_last_modified,
        typed(r."user".sourcedId) AS user_sourced_id,
        typed(r."class".sourcedId) AS class_sourced_id,
        typed(r.school.sourcedId) AS school_sourced_id,
        typed(r.role) AS role,
        typed(r."primary") AS is_primary,
        typed(r.beginDate) AS begin_date,
        typed(r.endDate) AS end_date,
        typed_ref(r."user".sourcedId) AS user_ref,
        typed_ref(r."class".sourcedId) AS class_ref,
        typed_ref(r.school.sourcedId) AS school_ref
    FROM records
)
SELECT
    *,
    -- a missing status is active, a null one refused; references it could not read as objects
    is_read(sourced_id) AND is_read(status)
    AND is_read(user_ref) AND is_read(class_ref) AND is_read(school_ref) AS certain
FROM record_fields;

-- the rows, from either source as `fields` (each rule computed once: a name that refers to an
-- expression of the same SELECT would repeat the expression)
values AS (
    SELECT
        *,
        instant_of(date_last_modified) AS instant,
        ref_of(user_ref, user_sourced_id) AS user_id,
        date_of(begin_date) AS begin_day,
        date_of(end_date) AS end_day
    FROM fields
),
rows AS (
    SELECT
        sourced_id.v AS sourced_id,
        status_of(status) AS status,
        instant AS date_last_modified,
        user_id AS user_sourced_id,
        ref_of(class_ref, class_sourced_id) AS class_sourced_id,
        ref_of(school_ref, school_sourced_id) AS school_sourced_id,
        role.v AS role,
        flag_of(is_primary) AS is_primary,
        begin_day AS begin_date,
        end_day AS end_date,
        list_concat(
            warning(date_warns(begin_date, begin_day), 'beginDate',
                    'not an ISO YYYY-MM-DD date; stored as null'),
            warning(date_warns(end_date, end_day), 'endDate',
                    'not an ISO YYYY-MM-DD date; stored as null')
        ) AS warnings,
        NOT coalesce(
            certain
            AND is_record
            AND is_sourced_id(sourced_id)
            AND is_status(status)
            AND is_instant(date_last_modified, instant)
            AND is_ref(user_ref, user_sourced_id) AND user_id IS NOT NULL
            AND is_ref(class_ref, class_sourced_id)
            AND is_ref(school_ref, school_sourced_id)
            AND is_text(role)
            AND is_flag(is_primary)
            AND is_date(begin_date, begin_day)
            AND is_date(end_date, end_day),
            false
        ) AS needs_model,
        exact,
        record AS source_record,
        page,
        position
    FROM values
)
