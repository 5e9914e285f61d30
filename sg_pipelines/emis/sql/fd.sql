-- FD: effective-dated spans per student within each enrollment (after scope.sql).
-- Two attributes this system owns: the disability condition (from the latest evaluation team
-- report in effect: its code when eligible, `**` when not, or after a special-education exit
-- or revocation; `**` with no ETR) and the Section 504 plan indicator (Y from a 504 plan to
-- its exit). A span opens on the enrollment's first day and whenever either attribute changes;
-- it closes the day before the next one opens, or on the enrollment's last day. End dates after
-- the window's end are not yet facts and are left open.

fd_students AS (
    SELECT DISTINCT plan_student_id
    FROM documents
    WHERE program IN ('special_education', 'section_504') AND effective_day <= $end_date
),

changes AS (
    SELECT plan_student_id, meeting_date AS day, 'disability' AS attribute,
        CASE
            WHEN list_contains($ineligible_outcomes, fields ->> 'outcome') THEN '**'
            WHEN list_contains($disability_codes, fields ->> 'disability_condition')
                THEN fields ->> 'disability_condition'
            ELSE '**'
        END AS value,
        completed_at, document_id
    FROM documents
    WHERE document_type IN ('etr_initial', 'etr_reevaluation', 'etr_transfer')
    UNION ALL
    SELECT plan_student_id, effective_day, 'disability', '**', completed_at, document_id
    FROM documents
    WHERE document_type IN ('sped_exit', 'sped_revocation')
    UNION ALL
    SELECT plan_student_id, effective_day, 'section_504',
        CASE WHEN document_type = '504_plan' THEN $yes ELSE $no END,
        completed_at, document_id
    FROM documents
    WHERE document_type IN ('504_plan', '504_exit')
),

-- one value per student, attribute and day: the latest completed document's
daily AS (
    SELECT * FROM changes
    WHERE day IS NOT NULL AND day <= $end_date
    QUALIFY row_number() OVER (
        PARTITION BY plan_student_id, attribute, day ORDER BY completed_at DESC, document_id DESC
    ) = 1
),

fd_enrollments AS (
    SELECT e.*
    FROM enrollments AS e
    JOIN fd_students USING (plan_student_id)
    WHERE e.begin_date <= $end_date AND (e.last_day IS NULL OR e.last_day >= $start_date)
),

breakpoints AS (
    SELECT plan_student_id, building_irn, begin_date, last_day, begin_date AS day
    FROM fd_enrollments
    UNION
    SELECT e.plan_student_id, e.building_irn, e.begin_date, e.last_day, c.day
    FROM fd_enrollments AS e
    JOIN daily AS c USING (plan_student_id)
    WHERE c.day > e.begin_date AND (e.last_day IS NULL OR c.day <= e.last_day)
),

valued AS (
    SELECT
        b.*,
        coalesce(d.value, '**') AS disability_condition,
        coalesce(s.value, $no) AS section_504_plan,
        d.document_id AS disability_document_id,
        s.document_id AS section_504_document_id
    FROM breakpoints AS b
    ASOF LEFT JOIN (SELECT * FROM daily WHERE attribute = 'disability') AS d
        ON d.plan_student_id = b.plan_student_id AND b.day >= d.day
    ASOF LEFT JOIN (SELECT * FROM daily WHERE attribute = 'section_504') AS s
        ON s.plan_student_id = b.plan_student_id AND b.day >= s.day
),

openings AS (
    SELECT * FROM (
        SELECT
            *,
            lag(disability_condition || section_504_plan) OVER enrollment AS previous_values
        FROM valued
        WINDOW enrollment AS (PARTITION BY plan_student_id, begin_date ORDER BY day)
    )
    WHERE previous_values IS NULL OR previous_values <> disability_condition || section_504_plan
),

spans AS (
    SELECT
        *,
        coalesce(
            lead(day) OVER (PARTITION BY plan_student_id, begin_date ORDER BY day) - 1,
            last_day
        ) AS span_end
    FROM openings
)

SELECT
    $fiscal_year::INTEGER AS fiscal_year,
    sp.building_irn,
    s.emis_student_id,
    sp.day AS effective_start_date,
    CASE WHEN sp.span_end <= $end_date THEN sp.span_end END AS effective_end_date,
    sp.disability_condition,
    sp.section_504_plan,
    NULL::VARCHAR AS attendance_pattern_override,
    NULL::VARCHAR AS disadvantagement,
    NULL::VARCHAR AS foreign_exchange_grad_plan,
    NULL::VARCHAR AS immigrant_status,
    sp.begin_date AS enrollment_begin_date,
    sp.disability_document_id,
    sp.section_504_document_id,
    sp.plan_student_id
FROM spans AS sp
JOIN students AS s USING (plan_student_id)
WHERE sp.day <= $end_date AND (sp.span_end IS NULL OR sp.span_end >= $start_date)
