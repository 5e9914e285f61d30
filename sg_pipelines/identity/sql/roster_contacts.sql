-- Active guardians and other contacts, one row per student and contact.
SELECT
    student_sourced_id,
    contact_sourced_id,
    min(relationship) AS relationship,
    min(given_name) AS given_name,
    min(family_name) AS family_name,
    min(email) AS email,
    min(phone) AS phone
FROM roster_guardians
WHERE relationship IN ('guardian', 'other') AND coalesce(is_active, true)
GROUP BY student_sourced_id, contact_sourced_id
ORDER BY student_sourced_id, contact_sourced_id
