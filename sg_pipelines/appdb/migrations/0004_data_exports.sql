-- Data exports: the district's API accounts for the reporting API, what each may call with
-- which options, the invitations their contacts accept, the bearer tokens issued to them, and
-- the audit of every token call and record request.
-- Instants are ISO 8601 text in UTC; expiry columns are POSIX seconds so sweeps compare numbers.

-- One API account. The client secret is never stored: only HMAC-SHA256 under the server key
-- ($SG_API_SECRET_KEY). The secret is generated at the moment the contact is shown it, so
-- `secret_hash` NULL means none has been shown yet (or it was revoked) and the token call refuses.
-- `sftp` holds the optional push target as JSON (host, port, username, remote_dir).
CREATE TABLE data_exports (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    contact_first_name TEXT NOT NULL,
    contact_last_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT,
    secret_issued_at TEXT,
    accepted_at TEXT,
    disabled_at TEXT,
    sftp TEXT CHECK (sftp IS NULL OR json_valid(sftp)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- What an account may call: one row per endpoint (`ge`, `fd`, `fe`, `gq`, `ohioPreId`), with
-- each option's district default and "allow caller override" switch as JSON, the largest page
-- no override can exceed, and FD's "replace unknown fields with @".
CREATE TABLE data_export_permissions (
    export_id INTEGER NOT NULL REFERENCES data_exports (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    options TEXT NOT NULL CHECK (json_valid(options)),
    max_page_size INTEGER NOT NULL CHECK (max_page_size > 0),
    replace_unknown INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (export_id, endpoint)
);

-- The single-use links mailed to the contact. Opening one shows the terms; accepting consumes
-- it and shows a newly generated secret once. A rotation mails a new one.
CREATE TABLE data_export_invitations (
    token_hash TEXT PRIMARY KEY,
    export_id INTEGER NOT NULL REFERENCES data_exports (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('accept', 'rotate')),
    created_at TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used_at TEXT
);

-- Bearer tokens, stored as SHA-256 hashes; disabling the account or a rotation deletes them.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    export_id INTEGER NOT NULL REFERENCES data_exports (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

CREATE INDEX api_tokens_expires ON api_tokens (expires_at);

-- Every token call and every authenticated record request: which account (or the client id a
-- failed call claimed), which endpoint, when, the result and the correlation id. Never query
-- strings, student ids, tokens or secrets.
CREATE TABLE api_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    export_id INTEGER,
    client_id TEXT,
    endpoint TEXT NOT NULL,
    result TEXT NOT NULL,
    status INTEGER NOT NULL,
    correlation_id TEXT
);

CREATE INDEX api_audit_export ON api_audit (export_id, at);
