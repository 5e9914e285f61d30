-- Roster students in the field order of `identity.linking.RosterStudent`.
SELECT
    sourced_id,
    coalesce(is_active, false) AS is_active,
    coalesce(given_name, '') AS given_name,
    coalesce(family_name, '') AS family_name,
    birth_date,
    nullif(trim(emis_student_id), '') AS emis_student_id,
    nullif(trim(state_id), '') AS state_id,
    nullif(trim(local_id), '') AS local_id,
    nullif(trim(building_irn), '') AS building_irn,
    nullif(trim(grade), '') AS grade
FROM roster_students
ORDER BY sourced_id
