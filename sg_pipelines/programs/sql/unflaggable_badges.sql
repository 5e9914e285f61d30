-- Students with a badge active on the day whose Campus flag cannot be set: not linked to a
-- Campus sourcedId, or linked to a roster student Campus reports inactive.
-- Reads: computed_badges (badge_intervals.sql for the run's days); badge_roster_status
-- (sourced_id, is_active), empty when there is no roster yet.

SELECT DISTINCT
    b.program,
    b.as_of_date,
    b.plan_student_id,
    CASE WHEN b.sourced_id IS NULL THEN 'not linked' ELSE 'student inactive' END AS reason
FROM computed_badges AS b
LEFT JOIN badge_roster_status AS r ON r.sourced_id = b.sourced_id
WHERE b.active_on_day
    AND (b.sourced_id IS NULL OR r.is_active = false)
