-- Who and what every EMIS record may come from (CTEs; the record queries follow).
-- Only students linked to Campus (student_links) whose roster row carries an EMIS Student ID
-- that can be written as 9 digits; only completed documents, and an amendment only with its
-- completed plan; enrollment spans with an inclusive last day
-- (roster_enrollment_periods.end_date is exclusive, null while open).

linked_students AS (
    SELECT
        l.plan_student_id,
        r.sourced_id,
        CASE
            WHEN regexp_full_match(trim(r.emis_student_id), '[0-9]{1,9}')
                THEN lpad(trim(r.emis_student_id), 9, '0')
        END AS emis_student_id,
        r.building_irn AS roster_building_irn,
        coalesce(r.is_active, false) AS is_active
    FROM (SELECT DISTINCT plan_student_id, sourced_id FROM student_links) AS l
    JOIN roster_students AS r ON r.sourced_id = l.sourced_id
),

students AS (
    SELECT * FROM linked_students WHERE emis_student_id IS NOT NULL
),

documents AS (
    SELECT
        d.id AS document_id,
        d.student_id AS plan_student_id,
        d.program,
        d.document_type,
        d.completed_at,
        d.meeting_date,
        d.effective_start,
        d.effective_end,
        coalesce(d.effective_start, d.meeting_date) AS effective_day,
        d.amends_document_id,
        d.fields
    FROM plan_documents AS d
    JOIN students AS s ON s.plan_student_id = d.student_id
    WHERE d.status = 'completed' AND d.completed_at IS NOT NULL
        -- an amendment reports only with the completed plan it amends: amending a draft
        -- does not lock it (E7)
        AND (
            d.amends_document_id IS NULL
            OR EXISTS (
                SELECT 1
                FROM plan_documents AS amended
                WHERE amended.id = d.amends_document_id
                    AND amended.status = 'completed'
                    AND amended.completed_at IS NOT NULL
            )
        )
),

enrollments AS (
    SELECT
        s.plan_student_id,
        e.building_irn,
        e.begin_date,
        e.end_date - 1 AS last_day
    FROM roster_enrollment_periods AS e
    JOIN students AS s ON s.sourced_id = e.student_sourced_id
    WHERE e.begin_date IS NOT NULL AND (e.end_date IS NULL OR e.end_date > e.begin_date)
),

-- enrolled at least one day of the window; the latest such enrollment gives the building
window_enrollments AS (
    SELECT
        plan_student_id,
        min(begin_date) AS admitted_on,
        arg_max(building_irn, begin_date) AS building_irn
    FROM enrollments
    WHERE begin_date <= $end_date AND (last_day IS NULL OR last_day >= $start_date)
    GROUP BY plan_student_id
)
