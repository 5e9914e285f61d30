-- Derived roster tables of docs/warehouse.md.

CREATE TABLE IF NOT EXISTS roster_students (
    sourced_id VARCHAR,
    is_active BOOLEAN,
    given_name VARCHAR,
    family_name VARCHAR,
    middle_name VARCHAR,
    preferred_first_name VARCHAR,
    preferred_last_name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    emis_student_id VARCHAR(9),
    state_id VARCHAR,
    local_id VARCHAR,
    school_sourced_id VARCHAR,
    building_irn VARCHAR,
    grade VARCHAR,
    email VARCHAR,
    demographics_stale BOOLEAN,
    date_last_modified TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS roster_guardians (
    student_sourced_id VARCHAR,
    contact_sourced_id VARCHAR,
    relationship VARCHAR,
    role VARCHAR,
    given_name VARCHAR,
    family_name VARCHAR,
    email VARCHAR,
    phone VARCHAR,
    is_active BOOLEAN,
    PRIMARY KEY (student_sourced_id, contact_sourced_id)
);

CREATE TABLE IF NOT EXISTS roster_enrollment_periods (
    student_sourced_id VARCHAR,
    school_sourced_id VARCHAR,
    building_irn VARCHAR,
    begin_date DATE,
    end_date DATE,
    is_active BOOLEAN
);
