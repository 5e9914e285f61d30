-- School-level enrollment spans per student, from class enrollments: overlapping or adjacent
-- enrollments at the same school merge into one span. end_date is exclusive and null while
-- open. Inactive enrollments still describe past attendance, so they count; a span is active
-- when one of its enrollments is.

INSERT INTO roster_enrollment_periods
WITH enrollments AS (
    SELECT
        e.user_sourced_id AS student_sourced_id,
        coalesce(e.school_sourced_id, c.school_sourced_id) AS school_sourced_id,
        e.begin_date,
        coalesce(e.end_date, DATE '9999-12-31') AS end_date,
        e.is_active
    FROM oneroster_enrollments AS e
    LEFT JOIN oneroster_classes AS c ON c.sourced_id = e.class_sourced_id
    WHERE e.role = 'student' AND e.begin_date IS NOT NULL
),
marked AS (
    SELECT
        *,
        CASE WHEN begin_date <= max(end_date) OVER (
                PARTITION BY student_sourced_id, school_sourced_id
                ORDER BY begin_date, end_date
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) THEN 0 ELSE 1 END AS starts_span
    FROM enrollments
    WHERE school_sourced_id IS NOT NULL
),
numbered AS (
    SELECT
        *,
        sum(starts_span) OVER (
            PARTITION BY student_sourced_id, school_sourced_id
            ORDER BY begin_date, end_date
            ROWS UNBOUNDED PRECEDING
        ) AS span
    FROM marked
)
SELECT
    student_sourced_id,
    school_sourced_id,
    school.identifier AS building_irn,
    min(begin_date) AS begin_date,
    nullif(max(end_date), DATE '9999-12-31') AS end_date,
    bool_or(numbered.is_active) AS is_active
FROM numbered
LEFT JOIN oneroster_orgs AS school ON school.sourced_id = numbered.school_sourced_id
GROUP BY student_sourced_id, school_sourced_id, span, school.identifier
