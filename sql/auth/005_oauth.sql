-- auth: the OAuth 2.1 authorization server and OpenID Connect provider.
--
-- Every secret a client or browser holds (client secrets, codes, provider
-- session cookies, pushed request URIs) is stored only as its SHA-256: they
-- are 256-bit random values, so a hash is enough and a stolen table is not.

CREATE TABLE oauth_clients (
	id			text PRIMARY KEY
	    CHECK (id ~ '^[A-Za-z0-9_-]{8,64}$'),
	name			text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	type			text NOT NULL
	    CHECK (type IN ('public', 'confidential')),
	secret_hash		bytea CHECK (length(secret_hash) = 32),
	-- Exact strings, compared byte for byte; no wildcards (RFC 9700 2.1).
	redirect_uris		text[] NOT NULL
	    CHECK (cardinality(redirect_uris) BETWEEN 1 AND 20),
	post_logout_redirect_uris text[] NOT NULL DEFAULT '{}'
	    CHECK (cardinality(post_logout_redirect_uris) <= 20),
	scopes			text[] NOT NULL
	    DEFAULT '{openid,profile,email,offline_access}'
	    CHECK (scopes <@ '{openid,profile,email,offline_access}'::text[]),
	grant_types		text[] NOT NULL
	    DEFAULT '{authorization_code,refresh_token}'
	    CHECK (grant_types <@ '{authorization_code,refresh_token,client_credentials}'::text[]
	    AND cardinality(grant_types) >= 1),
	skip_consent		boolean NOT NULL DEFAULT false,
	require_par		boolean NOT NULL DEFAULT false,
	disabled		boolean NOT NULL DEFAULT false,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	-- A confidential client has a secret and a public one has none.
	CHECK ((type = 'confidential') = (secret_hash IS NOT NULL)),
	-- client_credentials acts as the client itself: only one that can
	-- prove who it is.
	CHECK (type = 'confidential' OR
	    NOT ('client_credentials' = ANY (grant_types)))
);

-- A browser's sign-in at the provider (its own cookie), so a second client
-- signs in without the password again.
CREATE TABLE idp_sessions (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	token_hash	bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	auth_time	timestamptz NOT NULL DEFAULT now(),
	amr		text[] NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz
);
CREATE INDEX idp_sessions_user_idx ON idp_sessions (user_id);

-- Refresh-token families issued to a client belong to it, so revoking a
-- consent or a client ends exactly its sessions.
ALTER TABLE sessions
    ADD COLUMN client_id text REFERENCES oauth_clients (id) ON DELETE CASCADE,
    ADD COLUMN scope text CHECK (length(scope) <= 500),
    ADD COLUMN idp_session_id uuid REFERENCES idp_sessions (id)
	ON DELETE SET NULL;
CREATE INDEX sessions_client_idx ON sessions (client_id, user_id)
    WHERE client_id IS NOT NULL;

-- An authorization code: single use, about a minute, bound to its client,
-- redirect URI and PKCE challenge.  A code presented twice revokes the
-- session it issued (RFC 6749 4.1.2), found through session_id.
CREATE TABLE oauth_codes (
	code_hash	bytea PRIMARY KEY CHECK (length(code_hash) = 32),
	client_id	text NOT NULL REFERENCES oauth_clients (id)
	    ON DELETE CASCADE,
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	redirect_uri	text NOT NULL,
	code_challenge	text NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
	scope		text NOT NULL CHECK (length(scope) <= 500),
	nonce		text CHECK (length(nonce) <= 255),
	auth_time	timestamptz NOT NULL,
	amr		text[] NOT NULL,
	idp_session_id	uuid REFERENCES idp_sessions (id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	session_id	uuid REFERENCES sessions (id) ON DELETE SET NULL
);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);

-- What a user granted a client, until revoked.
CREATE TABLE oauth_consents (
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id	text NOT NULL REFERENCES oauth_clients (id)
	    ON DELETE CASCADE,
	scopes		text[] NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, client_id)
);

-- Pushed authorization requests (RFC 9126): the request's parameters,
-- under a one-time request_uri that lives a minute.
CREATE TABLE oauth_par (
	uri_hash	bytea PRIMARY KEY CHECK (length(uri_hash) = 32),
	client_id	text NOT NULL REFERENCES oauth_clients (id)
	    ON DELETE CASCADE,
	params		jsonb NOT NULL,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);

-- A browser flow waiting for its user: the authorization request as
-- validated, under a random handle the sign-in and consent forms carry,
-- bound to the browser's CSRF cookie (csrf_hash), for ten minutes.
-- user_id is set once a password was right and a second factor is still
-- asked (mfa_until); idp_session_id once the user is signed in and the
-- consent page was shown to that provider session.
CREATE TABLE oauth_requests (
	handle_hash	bytea PRIMARY KEY CHECK (length(handle_hash) = 32),
	csrf_hash	bytea NOT NULL CHECK (length(csrf_hash) = 32),
	client_id	text NOT NULL REFERENCES oauth_clients (id)
	    ON DELETE CASCADE,
	params		jsonb NOT NULL,
	user_id		uuid REFERENCES users (id) ON DELETE CASCADE,
	mfa_until	timestamptz,
	idp_session_id	uuid REFERENCES idp_sessions (id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX oauth_requests_expires_idx ON oauth_requests (expires_at);
