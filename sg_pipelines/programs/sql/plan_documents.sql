-- The warehouse snapshot of the app database's plan documents, drafts included (so checks can
-- prove drafts never pass), with the linked student's sourcedId. `sections` (what a teacher
-- reads) stays in the app database: the viewer reads it there, and the warehouse needs none.

CREATE TABLE IF NOT EXISTS plan_documents (
    id BIGINT NOT NULL,
    student_id BIGINT NOT NULL,
    program VARCHAR NOT NULL,
    document_type VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    completed_at TIMESTAMPTZ,
    meeting_date DATE,
    effective_start DATE,
    effective_end DATE,
    amends_document_id BIGINT,
    fields JSON,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    sourced_id VARCHAR
);
