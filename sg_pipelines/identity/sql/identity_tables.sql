-- Identity tables in the warehouse. No keys on purpose: the `student_links_conflicts` check
-- is what proves each sourcedId maps to one plan student and each plan student to one sourcedId.

CREATE TABLE IF NOT EXISTS student_links (
    plan_student_id BIGINT NOT NULL,
    sourced_id VARCHAR NOT NULL,
    matched_by VARCHAR NOT NULL,
    linked_at TIMESTAMPTZ NOT NULL,
    previous_sourced_id VARCHAR
);

CREATE TABLE IF NOT EXISTS student_rekeys (
    plan_student_id BIGINT NOT NULL,
    old_sourced_id VARCHAR NOT NULL,
    new_sourced_id VARCHAR NOT NULL,
    matched_by VARCHAR NOT NULL,
    rekeyed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS link_review (
    sourced_id VARCHAR NOT NULL,
    candidate_plan_student_ids VARCHAR[] NOT NULL,
    reason VARCHAR NOT NULL,
    proposed_by VARCHAR NOT NULL,
    raised_at TIMESTAMPTZ NOT NULL
);
