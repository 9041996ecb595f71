# shellcheck shell=bash
# How a worker ends a request (lib/gh_app.c, answer_end): the answer is
# sent before the log line, and the connection is closed at once when
# the whole request was read, or the careful way (its side shut, what
# nginx still sends read away) when it was not.  Either way every answer
# must arrive whole and nginx must see no reset, whatever of the body
# the worker read: none, all of it, or none of a large one it refused.

# pf_errors: lines of nginx's error log about an upstream cut short.
pf_errors() {
	grep -c 'reset by peer\|prematurely closed\|broken pipe\|upstream sent' \
	    "$GH_STATE/logs/nginx-error.log" 2>/dev/null || true
}

# pf_whole STATUS WHAT: the last answer is STATUS with a JSON body whole.
pf_whole() {
	expect_status "$1"
	printf '%s' "$BODY" | jq -e . >/dev/null 2>&1 ||
	    fail "$2: the body is not whole JSON: ${BODY:0:200}"
}

t_20c_answers_whole_whatever_of_the_body_was_read() {
	local before big upload i
	before=$(pf_errors)
	signup pf-body
	login pf-body
	big="$T_OUT/pf-big.json"
	# A JSON body of 200 KiB: larger than the worker's limit, so it is
	# refused from its Content-Length, none of it read.
	{ printf '{"amount":500,"currency":"EUR","description":"'
	  head -c 204800 /dev/zero | tr '\0' x
	  printf '"}'; } >"$big"
	upload="$T_OUT/pf-upload.pdf"
	{ printf '%%PDF-1.4\n'; head -c 2097152 /dev/urandom; } >"$upload"
	for i in $(seq 5); do
		req GET /api/v1/payment/ping
		pf_whole 200 "a GET, no body"
		json_post /api/v1/payments '{"amount":500,"currency":"EUR"}' \
		    -H "Authorization: Bearer $AT" -H "Idempotency-Key: pf-$i"
		pf_whole 201 "a body read whole"
		# Refused before the body is read: a bad token, a bad key.
		req POST /api/v1/payments -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer not.a.token" --data-binary @"$big"
		pf_whole 401 "an unread body, a bad token"
		req POST /api/v1/payments -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer $AT" --data-binary @"$big"
		[ "$STATUS" = 400 ] || [ "$STATUS" = 413 ] ||
		    fail "an unread body too large: status $STATUS"
		pf_whole "$STATUS" "an unread body too large"
		# A body sent in chunks, with no Content-Length from the client.
		req POST /api/v1/payments -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer $AT" -H "Idempotency-Key: pf-c-$i" \
		    -H 'Transfer-Encoding: chunked' --http1.1 \
		    --data-raw '{"amount":700,"currency":"EUR"}'
		pf_whole 201 "a chunked body"
		expect_json .amount 700
		# A media upload of 2 MiB without a token: refused unread.
		req POST '/api/v1/media?title=pf&filename=pf.pdf' \
		    -H 'Content-Type: application/pdf' --data-binary @"$upload"
		pf_whole 401 "an unread upload"
	done
	[ "$(pf_errors)" = "$before" ] ||
	    fail "nginx logged upstream errors: $(grep 'reset by peer\|prematurely closed\|broken pipe\|upstream sent' "$GH_STATE/logs/nginx-error.log" | tail -n 3)"
}
