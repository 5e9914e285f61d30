-- Every student (active and inactive) with demographics and current school.
-- School: the active student enrollment (primary first, then the latest begin date), else the
-- org of the student role, else the primary org. Building IRN is that school's identifier.

INSERT INTO roster_students
WITH students AS (
    SELECT *
    FROM oneroster_users
    WHERE list_contains(role_names, 'student')
),
enrolled_school AS (
    SELECT
        user_sourced_id AS sourced_id,
        arg_max(
            school_sourced_id,
            (coalesce(is_primary, false), coalesce(begin_date, DATE '1900-01-01'), sourced_id)
        ) AS school_sourced_id
    FROM oneroster_enrollments
    WHERE is_active AND role = 'student' AND school_sourced_id IS NOT NULL
      AND (end_date IS NULL OR end_date > current_date)
    GROUP BY user_sourced_id
),
role_school AS (
    SELECT
        sourced_id,
        first(role ->> '$.org.sourcedId' ORDER BY (role ->> '$.roleType') = 'primary' DESC)
            AS school_sourced_id
    FROM (SELECT sourced_id, unnest(roles::JSON[]) AS role FROM students)
    WHERE role ->> '$.role' = 'student' AND role ->> '$.org.sourcedId' IS NOT NULL
    GROUP BY sourced_id
)
SELECT
    s.sourced_id,
    s.is_active,
    s.given_name,
    s.family_name,
    s.middle_name,
    s.preferred_first_name,
    s.preferred_last_name,
    d.birth_date,
    d.sex,
    s.emis_student_id,
    s.state_id,
    s.identifier AS local_id,
    school.sourced_id AS school_sourced_id,
    school.identifier AS building_irn,
    s.grades[1] AS grade,
    s.email,
    coalesce(d.stale, false) AS demographics_stale,
    s.date_last_modified,
    s.deactivated_at
FROM students AS s
LEFT JOIN oneroster_demographics AS d USING (sourced_id)
LEFT JOIN enrolled_school AS e USING (sourced_id)
LEFT JOIN role_school AS r USING (sourced_id)
LEFT JOIN oneroster_orgs AS school
    ON school.sourced_id = coalesce(e.school_sourced_id, r.school_sourced_id, s.primary_org_sourced_id)
