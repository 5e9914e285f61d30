-- /classes pages (the JSON files $files) to staging rows, by the rules of models.Class.
-- After the macros, the two sources of `fields` and the rows made of them, as in
-- stage_enrollments.sql.

-- the references come last: of them only the kind is extracted from every record
CREATE OR REPLACE TEMP MACRO class_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.title', '$.classCode', '$.classType',
    '$.course.sourcedId', '$.school.sourcedId', '$.terms', '$.grades', '$.course', '$.school'
];

-- exact: the records at $positions of one page $files
WITH paths AS (
    SELECT * FROM listed_records($files, $positions, 'classes', class_paths(), 10)
)
SELECT
    * EXCLUDE (v, k),
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
    ref_field(record, '$.school', k[12]) AS school_ref,
    true AS certain
FROM paths;

-- fast: every record of the pages $files; references read only as objects with a sourcedId
WITH records AS (
    SELECT * FROM typed_records(
        $files,
        '{"classes": [{"sourcedId": "JSON", "status": "JSON",
            "dateLastModified": "JSON", "title": "JSON", "classCode": "JSON",
            "classType": "JSON", "course": {"sourcedId": "JSON"},
            "school": {"sourcedId": "JSON"}, "terms": "JSON", "grades": "JSON"}]}',
        'classes'
    )
),
record_fields AS (
    SELECT
        * EXCLUDE (r),
        typed(r.sourcedId) AS sourced_id,
        typed(r.status) AS status,
        typed(r.dateLastModified) AS date_last_modified,
        typed(r.title) AS title,
        typed(r.classCode) AS class_code,
        typed(r.classType) AS class_type,
        typed(r.course.sourcedId) AS course_sourced_id,
        typed(r.school.sourcedId) AS school_sourced_id,
        typed(r.terms) AS terms,
        typed(r.grades) AS grades,
        typed_ref(r.course.sourcedId) AS course_ref,
        typed_ref(r.school.sourcedId) AS school_ref
    FROM records
)
SELECT
    *,
    -- a missing status is active, a null one refused; references it could not read as objects
    is_read(sourced_id) AND is_read(status) AND is_read(course_ref) AND is_read(school_ref)
        AS certain
FROM record_fields;

-- the rows, from either source as `fields` (each rule computed once: a name that refers to an
-- expression of the same SELECT would repeat the expression)
values AS (
    SELECT *, instant_of(date_last_modified) AS instant FROM fields
),
rows AS (
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
        NULL::STRUCT(field VARCHAR, reason VARCHAR)[] AS warnings,
        NOT coalesce(
            certain
            AND is_record
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
        exact,
        record AS source_record,
        page,
        position
    FROM values
)
