-- The size of a program's flag set in Campus, which the mass-change guard weighs deltas
-- against: every flag, and the open flags we own. Parameters: $day, $cutover, $owner.
SELECT
    count(*) AS campus_flags,
    count(*) FILTER (
        WHERE created_by IS NOT DISTINCT FROM $owner
          AND start_date >= $cutover
          AND (end_date IS NULL OR end_date >= $day)
    ) AS owned_open_flags
FROM campus_flags_now
