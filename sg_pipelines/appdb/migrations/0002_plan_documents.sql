-- Plan documents: IEPs, evaluation team reports, 504 plans, EL plans, written education plans
-- and reading improvement plans, one row per document. A document is a draft until it is
-- completed (locked); only completed documents reach badges, flags, EMIS and the viewer.
-- `fields` holds the structured answers reporting needs; `sections` what a teacher reads.

CREATE TABLE plan_documents (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students (id),
    program TEXT NOT NULL,
    document_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'completed')),
    completed_at TEXT,
    meeting_date TEXT,
    effective_start TEXT,
    effective_end TEXT,
    amends_document_id INTEGER REFERENCES plan_documents (id),
    fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),
    sections TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(sections)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CHECK (effective_end IS NULL OR effective_start IS NULL OR effective_end >= effective_start)
);

CREATE INDEX plan_documents_student_program ON plan_documents (student_id, program);
CREATE INDEX plan_documents_amends ON plan_documents (amends_document_id);
