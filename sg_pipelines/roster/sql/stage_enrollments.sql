-- /enrollments pages (the JSON files $files) to staging rows, by the rules of models.Enrollment.
-- A record the rules do not fully understand is staged with needs_model and its JSON.
-- The last statement is the query alone: staging.py inserts its rows or writes them to a file.

-- the references come last: of them only the kind is extracted from every record
CREATE OR REPLACE TEMP MACRO enrollment_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.user.sourcedId', '$.class.sourcedId',
    '$.school.sourcedId', '$.role', '$.primary', '$.beginDate', '$.endDate', '$.user', '$.class',
    '$.school'
];

WITH records AS (
    SELECT unnest(from_json(content, '{"enrollments": "JSON[]"}').enrollments) AS record
    FROM read_text($files)
),
paths AS (
    SELECT
        record,
        -- records are DuckDB's own minified JSON: an object is one that starts with {
        starts_with(record, '{') AS is_record,
        json_extract_string(record, enrollment_paths()[1:10]) AS v,
        json_type(record, enrollment_paths()) AS k
    FROM records
),
fields AS (
    SELECT
        record,
        is_record,
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
        ref_field(record, '$.school', k[13]) AS school_ref
    FROM paths
),
values AS (
    SELECT
        *,
        instant_of(date_last_modified) AS instant,
        ref_of(user_ref, user_sourced_id) AS user_id,
        date_of(begin_date) AS begin_day,
        date_of(end_date) AS end_day
    FROM fields
)
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
    warning(date_warns(begin_date, begin_day), 'beginDate',
            'not an ISO YYYY-MM-DD date; stored as null')
    || warning(date_warns(end_date, end_day), 'endDate',
               'not an ISO YYYY-MM-DD date; stored as null') AS warnings,
    NOT coalesce(
        is_record
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
    -- a JSON null in the list arrives as SQL NULL
    CASE WHEN needs_model THEN coalesce(record, 'null') END AS record
FROM values
