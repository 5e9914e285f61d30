-- Reconciliation (after scope.sql): per record, whether Campus will keep or drop it and why,
-- so "why is my record missing in Campus" has an answer. Reads the built record tables, and
-- the plan documents of students no record could carry.
-- Campus also drops records of state-excluded enrollments, grades, calendars and schools (and
-- No Show enrollments); Campus does not tell us which, so that column is always 'unknown'.

built AS (
    SELECT 'GE' AS record_type, plan_student_id, emis_student_id,
        date_type || ' ' || strftime(event_date, '%Y%m%d') AS record_key,
        event_date AS record_date, pulled_prior, true AS student_active, document_id
    FROM emis_ge
    UNION ALL
    SELECT 'FD', plan_student_id, emis_student_id,
        'from ' || strftime(effective_start_date, '%Y%m%d'), effective_start_date, false, true,
        coalesce(disability_document_id, section_504_document_id)
    FROM emis_fd
    UNION ALL
    SELECT 'FE', plan_student_id, emis_student_id,
        date_type || ' ' || strftime(event_date, '%Y%m%d') || ' ' || assessment_area,
        event_date, false, true, document_id
    FROM emis_fe
    UNION ALL
    SELECT 'GQ', plan_student_id, emis_student_id, program_code, NULL, false, true, document_id
    FROM emis_gq
    UNION ALL
    SELECT 'Pre-ID', plan_student_id, emis_student_id, plan_type, NULL, false, student_active,
        document_id
    FROM ohio_pre_id
),

judged AS (
    SELECT
        b.*,
        b.record_date IS NULL OR EXISTS (
            SELECT 1 FROM enrollments AS e
            WHERE e.plan_student_id = b.plan_student_id
                AND b.record_date >= e.begin_date
                AND (e.last_day IS NULL OR b.record_date <= e.last_day)
        ) AS inside_enrollment
    FROM built AS b
),

candidates AS (
    SELECT
        d.id AS document_id,
        d.student_id AS plan_student_id,
        d.program,
        d.document_type,
        coalesce(d.effective_start, d.meeting_date) AS record_date
    FROM plan_documents AS d
    WHERE d.status = 'completed'
        AND d.program IN ('special_education', 'section_504', 'english_learners')
        AND coalesce(d.effective_start, d.meeting_date) BETWEEN $start_date AND $end_date
)

SELECT
    record_type,
    plan_student_id,
    emis_student_id,
    record_key,
    record_date,
    CASE
        WHEN NOT student_active THEN 'drop'
        WHEN NOT inside_enrollment AND NOT pulled_prior THEN 'drop'
        ELSE 'keep'
    END AS campus_will,
    CASE
        WHEN NOT student_active THEN 'student inactive in Campus'
        WHEN NOT inside_enrollment AND pulled_prior
            THEN 'before admission: reported under Pull Prior IEPs/Evals'
        WHEN NOT inside_enrollment THEN 'record outside every enrollment'
    END AS reason,
    'unknown' AS state_exclusion,
    document_id
FROM judged
UNION ALL
SELECT
    CASE c.program WHEN 'special_education' THEN 'GE' WHEN 'section_504' THEN 'FD' ELSE 'Pre-ID' END,
    c.plan_student_id,
    l.emis_student_id,
    c.document_type || ' ' || strftime(c.record_date, '%Y%m%d'),
    c.record_date,
    'drop',
    CASE
        WHEN l.plan_student_id IS NULL THEN 'student not linked'
        ELSE 'no valid EMIS Student ID in the Campus roster'
    END,
    'unknown',
    c.document_id
FROM candidates AS c
LEFT JOIN linked_students AS l USING (plan_student_id)
WHERE l.plan_student_id IS NULL OR l.emis_student_id IS NULL
