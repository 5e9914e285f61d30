-- The flag changes for one program and day: badges (desired) against what Campus holds now
-- (temp table campus_flags_now). Only flags we own are changed: created by our vendor key and
-- starting on or after the cutover. Parameters: $program, $day, $cutover, $owner.
WITH badges AS (
    SELECT b.sourced_id, b.badge_start, b.badge_end, coalesce(s.is_active, false) AS student_active
    FROM program_participation_badges AS b
    LEFT JOIN roster_students AS s ON s.sourced_id = b.sourced_id
    WHERE b.program = $program AND b.as_of_date = $day AND b.sourced_id IS NOT NULL
),
desired AS (
    -- flags never start before the cutover; badges that ended before it are history
    SELECT DISTINCT sourced_id, greatest(badge_start, $cutover) AS start_date, badge_end AS end_date
    FROM badges
    WHERE student_active
      AND badge_start <= $day
      AND (badge_end IS NULL OR badge_end >= $cutover)
),
owned AS (
    SELECT * FROM campus_flags_now
    WHERE created_by IS NOT DISTINCT FROM $owner AND start_date >= $cutover
),
others AS (
    SELECT * FROM campus_flags_now
    WHERE NOT (created_by IS NOT DISTINCT FROM $owner AND start_date >= $cutover)
),
candidates AS (
    -- a desired flag and an owned flag of the same student pair up when their dates overlap;
    -- the same start date wins, then the nearest one, and each side takes one partner
    SELECT
        d.sourced_id, d.start_date AS d_start, d.end_date AS d_end,
        o.participation_id, o.start_date AS o_start, o.end_date AS o_end,
        row_number() OVER (
            PARTITION BY d.sourced_id, d.start_date
            ORDER BY o.start_date = d.start_date DESC,
                     abs(o.start_date - d.start_date), o.participation_id
        ) AS d_rank,
        row_number() OVER (
            PARTITION BY o.participation_id
            ORDER BY o.start_date = d.start_date DESC,
                     abs(o.start_date - d.start_date), d.start_date
        ) AS o_rank
    FROM desired AS d
    JOIN owned AS o
      ON o.sourced_id = d.sourced_id
     AND o.start_date <= coalesce(d.end_date, DATE '9999-12-31')
     AND d.start_date <= coalesce(o.end_date, DATE '9999-12-31')
),
pairs AS (
    SELECT * FROM candidates WHERE d_rank = 1 AND o_rank = 1
),
unpaired_desired AS (
    SELECT d.*
    FROM desired AS d
    ANTI JOIN pairs AS p ON p.sourced_id = d.sourced_id AND p.d_start = d.start_date
),
unpaired_owned_open AS (
    SELECT o.*
    FROM owned AS o
    ANTI JOIN pairs AS p ON p.participation_id = o.participation_id
    WHERE o.end_date IS NULL
)

-- a badge whose dates moved, or that ended
SELECT
    $program AS program, $day AS as_of_date, sourced_id,
    CASE WHEN o_end IS NULL AND d_end IS NOT NULL AND o_start = d_start THEN 'end' ELSE 'update' END,
    d_start, d_end, participation_id,
    CASE WHEN o_end IS NULL AND d_end IS NOT NULL AND o_start = d_start THEN 'badge ended'
         ELSE 'dates changed' END
FROM pairs
WHERE o_start <> d_start OR o_end IS DISTINCT FROM d_end

UNION ALL

-- a new badge: set a flag, unless another owner's flag already covers those dates
SELECT
    $program, $day, d.sourced_id,
    CASE WHEN held.sourced_id IS NULL THEN 'set' ELSE 'hold' END,
    d.start_date, d.end_date,
    CASE WHEN held.sourced_id IS NULL
         THEN flag_participation_id($program, d.sourced_id, d.start_date)
         ELSE held.participation_id END,
    CASE WHEN held.sourced_id IS NULL THEN 'new badge' ELSE 'held by another owner' END
FROM unpaired_desired AS d
LEFT JOIN (
    SELECT DISTINCT ON (d.sourced_id, d.start_date)
        d.sourced_id, d.start_date, x.participation_id
    FROM unpaired_desired AS d
    JOIN others AS x
      ON x.sourced_id = d.sourced_id
     AND x.start_date <= coalesce(d.end_date, DATE '9999-12-31')
     AND d.start_date <= coalesce(x.end_date, DATE '9999-12-31')
    ORDER BY d.sourced_id, d.start_date, x.participation_id
) AS held ON held.sourced_id = d.sourced_id AND held.start_date = d.start_date

UNION ALL

-- an open flag of ours with no badge behind it any more: end it on the badge's end, or the
-- day before this one (never before the flag's own start)
SELECT
    $program, $day, o.sourced_id, 'end', o.start_date,
    greatest(o.start_date, least($day - 1, coalesce(b.badge_end, $day - 1))),
    o.participation_id,
    CASE WHEN b.sourced_id IS NULL THEN 'no badge'
         WHEN NOT b.student_active THEN 'student inactive'
         ELSE 'badge ended' END
FROM unpaired_owned_open AS o
LEFT JOIN (
    SELECT DISTINCT ON (o.participation_id)
        o.participation_id, b.sourced_id, b.badge_end, b.student_active
    FROM unpaired_owned_open AS o
    JOIN badges AS b
      ON b.sourced_id = o.sourced_id
     AND b.badge_start <= $day
     AND coalesce(b.badge_end, DATE '9999-12-31') >= o.start_date
    ORDER BY o.participation_id, b.badge_start DESC
) AS b ON b.participation_id = o.participation_id
