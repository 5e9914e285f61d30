-- Plan-system students, their contacts (guardians), and the audit log.
-- Dates are ISO 'YYYY-MM-DD' text; instants are ISO 8601 text in UTC.

CREATE TABLE students (
    id INTEGER PRIMARY KEY,
    internal_sis_student_id TEXT UNIQUE,
    emis_student_id TEXT CHECK (emis_student_id IS NULL OR length(emis_student_id) = 9),
    state_id TEXT,
    local_id TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    birth_date TEXT,
    building_irn TEXT,
    grade TEXT,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX students_emis_student_id ON students (emis_student_id);
CREATE INDEX students_state_id ON students (state_id);
CREATE INDEX students_local_id ON students (local_id);
CREATE INDEX students_name_birth_date ON students (last_name, first_name, birth_date);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students (id),
    external_id TEXT NOT NULL,
    relationship TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (student_id, external_id)
);

-- Who did what to which record. Subjects and details carry our own ids, never names.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);

CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id);
