-- LTI 1.3: platform registrations (one or more per district), their deployments, the tool's own
-- signing keys, launch state and single-use nonces, view tokens, and the view audit log.
-- Instants are ISO 8601 text in UTC; expiry columns are POSIX seconds so sweeps compare numbers.

-- A platform (Campus) registered with this tool: what the tool knows about it (LTI Core 1.3,
-- Security Framework 5.1). One issuer may hold several client ids.
CREATE TABLE lti_registrations (
    id INTEGER PRIMARY KEY,
    district TEXT NOT NULL,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    auth_login_url TEXT NOT NULL,
    key_set_url TEXT NOT NULL,
    launch_url TEXT NOT NULL,
    frame_origin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (issuer, client_id)
);

-- Deployments of the tool inside a registration. `buildings` narrows a school-level deployment
-- to the building IRNs it covers (a JSON array); NULL means the whole district.
CREATE TABLE lti_deployments (
    id INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES lti_registrations (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    buildings TEXT CHECK (buildings IS NULL OR json_valid(buildings)),
    created_at TEXT NOT NULL,
    UNIQUE (registration_id, deployment_id)
);

-- The tool's signing keys, published at /.well-known/jwks.json. The newest active key signs;
-- a retired key stays published until `retire_after` so tokens signed with it still verify.
CREATE TABLE lti_tool_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL CHECK (json_valid(private_jwk)),
    created_at TEXT NOT NULL,
    retired_at TEXT,
    retire_after REAL
);

-- One row per login initiation: the state bound to the browser by a per-launch cookie, and the
-- login parameters a relaunch needs (the cookie-blocked page restarts the login from them).
CREATE TABLE lti_states (
    state_hash TEXT PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES lti_registrations (id) ON DELETE CASCADE,
    login_params TEXT NOT NULL CHECK (json_valid(login_params)),
    expires_at REAL NOT NULL,
    used_at TEXT
);

CREATE INDEX lti_states_expires ON lti_states (expires_at);

-- Nonces the tool issued. A launch consumes its nonce by deleting the row: a second use of the
-- same id_token finds nothing. Rows that were never used expire with the maximum token age.
CREATE TABLE lti_nonces (
    nonce_hash TEXT PRIMARY KEY,
    state_hash TEXT NOT NULL,
    expires_at REAL NOT NULL
);

CREATE INDEX lti_nonces_expires ON lti_nonces (expires_at);

-- Opaque, short-lived tokens in view URLs; they stand for (student, program), never show them.
CREATE TABLE lti_view_tokens (
    token_hash TEXT PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES lti_registrations (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    student_id INTEGER NOT NULL REFERENCES students (id),
    program TEXT NOT NULL,
    expires_at REAL NOT NULL
);

CREATE INDEX lti_view_tokens_expires ON lti_view_tokens (expires_at);

-- Every launch decision and every plan view: who (the platform user's sub), which student (our
-- id, when the launch got that far), which program, when, and the result. Kept here, never in
-- the logs, since a student beside a program reveals a disability.
CREATE TABLE lti_view_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    registration_id INTEGER,
    deployment_id TEXT,
    user_sub TEXT,
    student_id INTEGER,
    program TEXT,
    document_id INTEGER,
    result TEXT NOT NULL
);

CREATE INDEX lti_view_audit_student ON lti_view_audit (student_id, at);
