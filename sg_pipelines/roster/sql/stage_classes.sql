-- /classes pages (the JSON files $files) to staging rows, by the rules of models.Class.
-- A record the rules do not fully understand is staged with needs_model and its JSON.
-- The last statement is the query alone: staging.py inserts its rows or writes them to a file.

-- the references come last: of them only the kind is extracted from every record
CREATE OR REPLACE TEMP MACRO class_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.title', '$.classCode', '$.classType',
    '$.course.sourcedId', '$.school.sourcedId', '$.terms', '$.grades', '$.course', '$.school'
];

WITH records AS (
    SELECT unnest(from_json(content, '{"classes": "JSON[]"}').classes) AS record
    FROM read_text($files)
),
paths AS (
    SELECT
        record,
        -- records are DuckDB's own minified JSON: an object is one that starts with {
        starts_with(record, '{') AS is_record,
        json_extract_string(record, class_paths()[1:10]) AS v,
        json_type(record, class_paths()) AS k
    FROM records
),
fields AS (
    SELECT
        record,
        is_record,
        field(v, k, 1) AS sourced_id,
        field(v, k, 2) AS status,
        field(v, k, 3) AS date_last_modified,
        field(v, k, 4) AS title,
        field(v, k, 5) AS class_code,
        field(v, k, 6) AS class_type,
        field(v, k, 7) AS course_sourced_id,
        field(v, k, 8) AS school_sourced_id,
        field(v, k, 9) AS terms,
        field(v, k, 10) AS grades,
        ref_field(record, '$.course', k[11]) AS course_ref,
        ref_field(record, '$.school', k[12]) AS school_ref
    FROM paths
),
values AS (
    SELECT *, instant_of(date_last_modified) AS instant FROM fields
)
SELECT
    sourced_id.v AS sourced_id,
    status_of(status) AS status,
    instant AS date_last_modified,
    title.v AS title,
    class_code.v AS class_code,
    class_type.v AS class_type,
    ref_of(course_ref, course_sourced_id) AS course_sourced_id,
    ref_of(school_ref, school_sourced_id) AS school_sourced_id,
    to_json(ref_list_of(terms)) AS term_sourced_ids,
    to_json(strings_of(grades)) AS grades,
    []::STRUCT(field VARCHAR, reason VARCHAR)[] AS warnings,
    NOT coalesce(
        is_record
        AND is_sourced_id(sourced_id)
        AND is_status(status)
        AND is_instant(date_last_modified, instant)
        AND is_text(title)
        AND is_text(class_code)
        AND is_text(class_type)
        AND is_ref(course_ref, course_sourced_id)
        AND is_ref(school_ref, school_sourced_id)
        AND is_ref_list(terms)
        AND is_strings(grades),
        false
    ) AS needs_model,
    -- a JSON null in the list arrives as SQL NULL
    CASE WHEN needs_model THEN coalesce(record, 'null') END AS record
FROM values
