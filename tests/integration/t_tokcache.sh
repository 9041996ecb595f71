# shellcheck shell=bash
# The workers keep the access tokens they verified (lib/gh_tokcache.h):
# a token sent many times must be refused by every worker once its
# session ends, however often it was taken before; and a token that
# differs from a kept one by a character, or borrows its signature, is
# refused each time, while the kept one goes on working.

# tc_many N PATH TOKEN: N requests; the statuses, one line each, in TC_STATUSES.
tc_many() {
	TC_STATUSES=
	for _ in $(seq "$1"); do
		req GET "$2" -H "Authorization: Bearer $3"
		TC_STATUSES="$TC_STATUSES$STATUS"$'\n'
	done
}

# tc_all STATUS WHAT: every status of the last tc_many was STATUS.
tc_all() {
	local bad
	bad=$(printf '%s' "$TC_STATUSES" | grep -vx "$1" | sort | uniq -c | tr '\n' ' ')
	[ -z "$bad" ] || fail "$2: not all $1: $bad"
}

t_46g_a_token_taken_many_times_is_refused_by_every_worker_after_logout() {
	local a b p
	signup tc-logout
	login tc-logout
	a=$AT
	login tc-logout
	b=$AT
	# Enough requests that every worker of each pool has verified it.
	for p in '/api/v1/payments?limit=1' '/api/v1/media?limit=1'; do
		tc_many 12 "$p" "$a"
		tc_all 200 "$p before logout"
	done
	req POST /api/v1/auth/logout -H "Authorization: Bearer $a"
	expect_status 204
	rv_refused_within "$a" 5
	for p in '/api/v1/payments?limit=1' '/api/v1/media?limit=1'; do
		tc_many 12 "$p" "$a"
		tc_all 401 "$p after logout"
		expect_json .detail "the session has ended"
		tc_many 6 "$p" "$b"
		tc_all 200 "$p with the other session's token"
	done
}

t_46h_tokens_like_a_kept_one_are_refused() {
	local a other h p s len last flip
	signup tc-twin
	login tc-twin
	a=$AT
	login tc-twin
	other=$AT
	tc_many 8 /api/v1/payments "$a"
	tc_all 200 "the token itself"
	h=$(printf '%s' "$a" | cut -d. -f1)
	p=$(printf '%s' "$a" | cut -d. -f2)
	s=$(printf '%s' "$a" | cut -d. -f3)
	len=${#a}
	last=${a:len-1}
	flip=A
	[ "$last" = A ] && flip=Q
	# The last character changed, one cut off, one added.
	tc_many 3 /api/v1/payments "${a:0:len-1}$flip"
	tc_all 401 "last character changed"
	tc_many 3 /api/v1/payments "${a:0:len-1}"
	tc_all 401 "cut short"
	tc_many 3 /api/v1/payments "${a}A"
	tc_all 401 "one character more"
	tc_many 3 /api/v1/payments "$a."
	tc_all 401 "a fourth part"
	# Its signature under another token's payload, and under a payload
	# of its own made admin.
	tc_many 3 /api/v1/payments "$h.$(printf '%s' "$other" | cut -d. -f2).$s"
	tc_all 401 "another payload, this signature"
	tc_many 3 /api/v1/payments "$h.$(part 2 "$a" | jq -c '.role = "admin"' | tr -d '\n' | b64url).$s"
	tc_all 401 "made admin"
	expect_json .detail "bad token signature"
	# alg none over its own header and payload.
	tc_many 3 /api/v1/payments "$(printf '{"alg":"none","typ":"at+jwt"}' | b64url).$p."
	tc_all 401 "alg none"
	tc_many 6 /api/v1/payments "$a"
	tc_all 200 "the token itself, after"
	tc_many 3 /api/v1/payments "$other"
	tc_all 200 "the other token"
}

# tc_dpop_refused PATH PROOF DETAIL: the bound token with PROOF ("" for
# none) is refused with the proof's challenge and DETAIL.
tc_dpop_refused() {
	if [ -n "$2" ]; then
		req GET "$1" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $2"
	else
		req GET "$1" -H "Authorization: DPoP $DPOP_AT"
	fi
	expect_status 401
	expect_json .detail "$3"
	header www-authenticate | grep -qx "DPoP realm=\"gatehouse\", error=\"invalid_dpop_proof\", error_description=\"$3\", algs=\"ES256\"" ||
	    fail "$1, $3: $(header www-authenticate)"
}

# Sits with t_6o28 for its bound token (oa_dpop_ready).  Every worker of
# each pool keeps the token, then each request still needs a proof of
# its own, of the token's key, for this method, URI and token, once.
t_6o28b_a_kept_dpop_bound_token_needs_a_proof_every_time() {
	local thief="$T_OUT/k28b-thief.pem" p used
	oa_dpop_ready || return 0
	for p in /api/v1/payments /api/v1/media; do
		for _ in $(seq 8); do
			oa_dpop_proof "$DPOP_KEY" GET "$p" "$DPOP_AT"
			req GET "$p" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
			expect_status 200
		done
		used=$PROOF
		for _ in $(seq 4); do
			tc_dpop_refused "$p" "" "a DPoP proof is required (DPoP header)"
			tc_dpop_refused "$p" "$used" "the DPoP proof was used before"
			oa_dpop_proof "$thief" GET "$p" "$DPOP_AT"
			tc_dpop_refused "$p" "$PROOF" "the DPoP proof is signed by another key than the token's"
			oa_dpop_proof "$DPOP_KEY" GET "$p" "someone-elses-token"
			tc_dpop_refused "$p" "$PROOF" "the DPoP proof is not for this access token (ath)"
			oa_dpop_proof "$DPOP_KEY" POST "$p" "$DPOP_AT"
			req GET "$p" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
			expect_status 401
			header www-authenticate | grep -q '^DPoP realm="gatehouse", error="invalid_dpop_proof"' ||
			    fail "$p, a POST's proof: $(header www-authenticate)"
			req GET "$p" -H "Authorization: Bearer $DPOP_AT"
			expect_status 401
			expect_json .detail "this token is bound to a DPoP key: send it as Authorization: DPoP, with a DPoP proof"
			header www-authenticate | grep -q '^DPoP realm="gatehouse", error="invalid_token"' ||
			    fail "$p as Bearer: $(header www-authenticate)"
		done
		oa_dpop_proof "$DPOP_KEY" GET "$p" "$DPOP_AT"
		req GET "$p" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
		expect_status 200
	done
}
