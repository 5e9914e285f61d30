-- Tables of the flags integration (docs/warehouse.md, "Programs and flags").
CREATE TABLE IF NOT EXISTS flag_deltas (
    program VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    sourced_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,            -- 'set' / 'end' / 'update', or 'hold' (never pushed)
    start_date DATE NOT NULL,
    end_date DATE,
    campus_participation_id VARCHAR,
    reason VARCHAR
);

CREATE TABLE IF NOT EXISTS flag_delta_summary (
    program VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    gateway VARCHAR,
    state VARCHAR NOT NULL,             -- 'current' / 'historical' / 'before cutover'
    campus_flags INTEGER,
    owned_open_flags INTEGER,
    set_count INTEGER NOT NULL,
    end_count INTEGER NOT NULL,
    update_count INTEGER NOT NULL,
    held_count INTEGER NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS flag_push_results (
    push_id VARCHAR NOT NULL,
    program VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    sourced_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    status VARCHAR NOT NULL,            -- 'ok' / 'failed' / 'skipped'
    attempts INTEGER NOT NULL,
    error VARCHAR,
    pushed_at TIMESTAMPTZ NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,
    campus_participation_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS flag_push_log (
    push_id VARCHAR NOT NULL,
    program VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    gateway VARCHAR NOT NULL,
    status VARCHAR NOT NULL,            -- 'complete' / 'partial' / 'failed' / 'withheld'
    set_count INTEGER NOT NULL,
    ended_count INTEGER NOT NULL,
    updated_count INTEGER NOT NULL,
    failed_count INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    message VARCHAR
);
