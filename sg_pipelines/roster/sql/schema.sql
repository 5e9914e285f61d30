-- Roster tables of docs/warehouse.md. One row per sourcedId ever seen; rows are never deleted.

CREATE TABLE IF NOT EXISTS oneroster_users (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR,
    date_last_modified TIMESTAMPTZ,
    enabled_user BOOLEAN,
    given_name VARCHAR,
    family_name VARCHAR,
    middle_name VARCHAR,
    preferred_first_name VARCHAR,
    preferred_middle_name VARCHAR,
    preferred_last_name VARCHAR,
    username VARCHAR,
    identifier VARCHAR,
    email VARCHAR,
    sms VARCHAR,
    phone VARCHAR,
    user_master_identifier VARCHAR,
    primary_role VARCHAR,
    roles JSON,
    role_names VARCHAR[],
    primary_org_sourced_id VARCHAR,
    agent_sourced_ids VARCHAR[],
    grades VARCHAR[],
    user_ids JSON,
    metadata JSON,
    emis_student_id VARCHAR,
    state_id VARCHAR,
    is_active BOOLEAN,
    first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    deactivation_reason VARCHAR,
    last_sync_id VARCHAR
);

CREATE TABLE IF NOT EXISTS oneroster_demographics (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR,
    date_last_modified TIMESTAMPTZ,
    birth_date DATE,
    sex VARCHAR,
    american_indian_or_alaska_native BOOLEAN,
    asian BOOLEAN,
    black_or_african_american BOOLEAN,
    native_hawaiian_or_other_pacific_islander BOOLEAN,
    white BOOLEAN,
    demographic_race_two_or_more_races BOOLEAN,
    hispanic_or_latino_ethnicity BOOLEAN,
    country_of_birth_code VARCHAR,
    state_of_birth_abbreviation VARCHAR,
    city_of_birth VARCHAR,
    public_school_residence_status VARCHAR,
    stale BOOLEAN DEFAULT false,
    is_active BOOLEAN,
    first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    deactivation_reason VARCHAR,
    last_sync_id VARCHAR
);

CREATE TABLE IF NOT EXISTS oneroster_enrollments (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR,
    date_last_modified TIMESTAMPTZ,
    user_sourced_id VARCHAR,
    class_sourced_id VARCHAR,
    school_sourced_id VARCHAR,
    role VARCHAR,
    is_primary BOOLEAN,
    begin_date DATE,
    end_date DATE,
    is_active BOOLEAN,
    first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    deactivation_reason VARCHAR,
    last_sync_id VARCHAR
);

CREATE TABLE IF NOT EXISTS oneroster_orgs (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR,
    date_last_modified TIMESTAMPTZ,
    name VARCHAR,
    type VARCHAR,
    identifier VARCHAR,
    parent_sourced_id VARCHAR,
    metadata JSON,
    is_active BOOLEAN,
    first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    deactivation_reason VARCHAR,
    last_sync_id VARCHAR
);

CREATE TABLE IF NOT EXISTS oneroster_academic_sessions (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR,
    date_last_modified TIMESTAMPTZ,
    title VARCHAR,
    type VARCHAR,
    start_date DATE,
    end_date DATE,
    parent_sourced_id VARCHAR,
    school_year INTEGER,
    is_active BOOLEAN,
    first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    deactivation_reason VARCHAR,
    last_sync_id VARCHAR
);

CREATE TABLE IF NOT EXISTS oneroster_classes (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR,
    date_last_modified TIMESTAMPTZ,
    title VARCHAR,
    class_code VARCHAR,
    class_type VARCHAR,
    course_sourced_id VARCHAR,
    school_sourced_id VARCHAR,
    term_sourced_ids VARCHAR[],
    grades VARCHAR[],
    is_active BOOLEAN,
    first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    deactivation_reason VARCHAR,
    last_sync_id VARCHAR
);

CREATE TABLE IF NOT EXISTS roster_sync_log (
    sync_id VARCHAR PRIMARY KEY,
    mode VARCHAR,
    window_start TIMESTAMPTZ,
    window_end TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    status VARCHAR,
    counts JSON,
    message VARCHAR
);

CREATE TABLE IF NOT EXISTS roster_sync_collections (
    sync_id VARCHAR,
    collection VARCHAR,
    mode VARCHAR,
    window_start TIMESTAMPTZ,
    status VARCHAR,
    fetched INTEGER,
    upserted INTEGER,
    rejected INTEGER,
    warnings INTEGER,
    deactivated INTEGER,
    deactivations_withheld INTEGER,
    total_reported INTEGER,
    consistent BOOLEAN,
    cursor TIMESTAMPTZ,
    seconds DOUBLE,
    error VARCHAR,
    PRIMARY KEY (sync_id, collection)
);

CREATE TABLE IF NOT EXISTS roster_quarantine (
    sync_id VARCHAR,
    collection VARCHAR,
    sourced_id VARCHAR,
    reason VARCHAR,
    record JSON,
    quarantined_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS roster_warnings (
    sync_id VARCHAR,
    collection VARCHAR,
    sourced_id VARCHAR,
    field VARCHAR,
    reason VARCHAR,
    recorded_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS roster_unresolved_references (
    sync_id VARCHAR,
    collection VARCHAR,
    sourced_id VARCHAR,
    reference_kind VARCHAR,
    referenced_sourced_id VARCHAR
);
