-- Pre-ID: one row per student with an IEP, a Section 504 plan or English-learner
-- documentation in effect on the effective date (after scope.sql). A program is in effect when
-- its latest start or exit document effective by that date is a start (the badge rules of
-- programs/rules.py). With both an IEP and a 504 plan, the row comes from the most recent of
-- the two (SG-PREID; fault E4); EL-only students get a mostly blank row. Accommodations are the
-- plan's as of the date: its latest completed amendment effective by then, else the plan.
-- Students Campus reports inactive are left out, or kept and marked when asked (E4).

program_rules AS (
    SELECT unnest($rule_programs) AS program, unnest($rule_types) AS document_type,
        unnest($rule_roles) AS role
),

latest_program_documents AS (
    SELECT d.*, r.role
    FROM documents AS d
    JOIN program_rules AS r USING (program, document_type)
    WHERE r.role IN ('start', 'exit')
        AND d.program IN ('special_education', 'section_504', 'english_learners')
        AND d.effective_day <= $effective_date
    QUALIFY row_number() OVER (
        PARTITION BY d.plan_student_id, d.program
        ORDER BY d.effective_day DESC, d.completed_at DESC, d.document_id DESC
    ) = 1
),

in_effect AS (
    SELECT * FROM latest_program_documents WHERE role = 'start'
),

per_student AS (
    SELECT
        plan_student_id,
        bool_or(program = 'special_education') AS has_iep,
        bool_or(program = 'section_504') AS has_504,
        bool_or(program = 'english_learners') AS has_el,
        arg_max(document_id, (effective_day, completed_at, document_id))
            FILTER (WHERE program <> 'english_learners') AS plan_document_id,
        arg_max(document_id, (effective_day, completed_at, document_id))
            FILTER (WHERE program = 'english_learners') AS el_document_id
    FROM in_effect
    GROUP BY plan_student_id
),

chosen AS (
    SELECT p.*, d.program, d.effective_day AS plan_date
    FROM per_student AS p
    JOIN documents AS d ON d.document_id = coalesce(p.plan_document_id, p.el_document_id)
),

-- the plan's content as of the date: its latest amendment effective by then
as_of AS (
    SELECT
        c.*,
        coalesce(
            (
                SELECT arg_max(a.fields, (a.effective_day, a.completed_at, a.document_id))
                FROM documents AS a
                WHERE a.amends_document_id = c.plan_document_id
                    AND a.effective_day <= $effective_date
            ),
            d.fields
        ) AS fields
    FROM chosen AS c
    JOIN documents AS d ON d.document_id = coalesce(c.plan_document_id, c.el_document_id)
),

-- the building: the enrollment holding the date, else the roster's
buildings AS (
    SELECT
        plan_student_id,
        arg_max(building_irn, begin_date) AS building_irn
    FROM enrollments
    WHERE begin_date <= $effective_date AND (last_day IS NULL OR last_day >= $effective_date)
    GROUP BY plan_student_id
)

SELECT
    $fiscal_year::INTEGER AS fiscal_year,
    coalesce(b.building_irn, s.roster_building_irn) AS building_irn,
    s.emis_student_id,
    $effective_date::DATE AS effective_date,
    CASE a.program
        WHEN 'special_education' THEN 'IEP'
        WHEN 'section_504' THEN '504'
        ELSE 'EL'
    END AS plan_type,
    a.plan_date,
    CASE WHEN a.has_iep THEN 'Y' ELSE 'N' END AS iep,
    CASE WHEN a.has_504 THEN 'Y' ELSE 'N' END AS section_504_plan,
    CASE
        WHEN a.program = 'special_education'
            THEN CASE WHEN a.fields ->> 'el_status' = 'el' THEN 'Y' ELSE 'N' END
        WHEN a.has_el THEN 'Y'
        ELSE 'N'
    END AS english_learner,
    CASE
        WHEN a.program = 'special_education'
            THEN list_extract($test_type_codes, list_position($test_type_keys, a.fields ->> 'test_type'))
    END AS test_type,
    CASE
        WHEN a.program = 'english_learners' THEN []::VARCHAR[]
        ELSE coalesce(
            list_sort(list_distinct(
                CAST(json_extract_string(a.fields, '$.state_test_accommodations[*]') AS VARCHAR[])
            )),
            []::VARCHAR[]
        )
    END AS accommodations,
    s.is_active AS student_active,
    coalesce(a.plan_document_id, a.el_document_id) AS document_id,
    a.plan_student_id
FROM as_of AS a
JOIN students AS s USING (plan_student_id)
LEFT JOIN buildings AS b USING (plan_student_id)
WHERE s.is_active OR $include_inactive
