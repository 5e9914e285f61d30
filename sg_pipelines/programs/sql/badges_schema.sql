-- Program participation badges and the badges no flag can carry, one slice per
-- (program, as_of_date) partition, replaced whole by the run that computes it.

CREATE TABLE IF NOT EXISTS program_participation_badges (
    program VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    plan_student_id BIGINT NOT NULL,
    sourced_id VARCHAR,
    badge_start DATE NOT NULL,
    badge_end DATE,
    start_document_id BIGINT NOT NULL,
    end_document_id BIGINT,
    active_on_day BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS unflaggable_badges (
    program VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    plan_student_id BIGINT NOT NULL,
    reason VARCHAR NOT NULL
);
