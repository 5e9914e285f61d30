-- Counts of broken links: a sourcedId held by two plan students, a plan student holding two.
SELECT
    (SELECT count(*) FROM (
        SELECT sourced_id FROM student_links
        GROUP BY sourced_id HAVING count(DISTINCT plan_student_id) > 1
    )) AS shared_sourced_ids,
    (SELECT count(*) FROM (
        SELECT plan_student_id FROM student_links
        GROUP BY plan_student_id HAVING count(DISTINCT sourced_id) > 1
    )) AS plan_students_with_two_sourced_ids,
    (SELECT count(*) FROM link_review) AS pending_reviews
