-- auth: first migration. The service's real tables come in later migrations;
-- this one only marks the database as the auth service's.
-- gatehouse-migrate runs each file in its own transaction: no BEGIN/COMMIT here.

CREATE TABLE service_meta (
	key	text PRIMARY KEY,
	value	text NOT NULL
);

INSERT INTO service_meta (key, value) VALUES ('service', 'auth');
