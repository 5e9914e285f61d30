-- Every record of {table} rests on completed documents of its own, linked student (E7): a
-- draft, an unknown document, another student's document or an unlinked student fails.
WITH referenced AS (
    SELECT plan_student_id, unnest([{document_columns}]) AS document_id FROM {table}
)
SELECT
    (SELECT count(*) FROM {table}) AS records,
    count(*) FILTER (WHERE r.document_id IS NOT NULL AND d.id IS NULL) AS unknown_documents,
    count(*) FILTER (
        WHERE d.id IS NOT NULL AND (d.status <> 'completed' OR d.completed_at IS NULL)
    ) AS drafts,
    count(*) FILTER (WHERE d.student_id <> r.plan_student_id) AS other_students_documents,
    (
        SELECT count(*) FROM {table} AS t
        WHERE NOT EXISTS (
            SELECT 1 FROM student_links AS l WHERE l.plan_student_id = t.plan_student_id
        )
    ) AS unlinked_students
FROM referenced AS r
LEFT JOIN plan_documents AS d ON d.id = r.document_id
