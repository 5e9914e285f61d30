-- Badges resting on documents that must not count: drafts, documents completed after the
-- badge's day (in America/New_York), or documents absent from the snapshot.

WITH used AS (
    SELECT as_of_date, start_document_id AS document_id FROM program_participation_badges
    UNION ALL
    SELECT as_of_date, end_document_id FROM program_participation_badges
    WHERE end_document_id IS NOT NULL
)

SELECT
    (SELECT count(*) FROM program_participation_badges) AS badges,
    count(*) FILTER (WHERE d.id IS NOT NULL AND d.status <> 'completed') AS not_completed,
    count(*) FILTER (
        WHERE d.status = 'completed'
            AND (d.completed_at AT TIME ZONE 'America/New_York')::DATE > u.as_of_date
    ) AS completed_later,
    count(*) FILTER (WHERE d.id IS NULL) AS missing
FROM used AS u
LEFT JOIN plan_documents AS d ON d.id = u.document_id
