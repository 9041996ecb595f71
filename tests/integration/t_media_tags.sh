# shellcheck shell=bash
# Media: tags (unique without regard to case, on items one may see),
# the thumbnail field, deleting an account's media, and the sweep of
# orphan files.  Uses media_setup, media_user, upload, mkfile and friends
# from t_media.sh, and admin_token.

psql_media() {
	gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_media \
	    -tAc "$1"
}

# tag METHOD ID NAME [TOKEN]: NAME is put in the path as it is given.
tag() {
	req "$1" "/api/v1/media/$2/tags/$3" -H "Authorization: Bearer ${4:-$TINA}"
}

# The tags' users: tina owns, tom looks on.
tags_setup() {
	media_setup || return 1
	[ -n "${T_TAGS_READY-}" ] && return 0
	media_user tina && TINA=$AT TINA_ID=$UID_
	media_user tom && TOM=$AT TOM_ID=$UID_
	ADMIN=$(admin_token)
	T_TAGS_READY=1
}

# A file of its own (each upload is a new stored file).
unique_pdf() {
	local f="$T_MEDIA_DIR/u-$RANDOM$RANDOM.pdf"
	{ cat "$(mkfile pdf)"; printf '%% %s\n' "$(date +%s%N)"; } >"$f"
	printf '%s\n' "$f"
}

t_89e_tag_and_untag_an_item() {
	local pub priv
	tags_setup || return
	upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
	pub=$MID
	upload "$(unique_pdf)" application/pdf "" "$TINA"
	priv=$MID
	req GET "/api/v1/media/$pub/tags" -H "Authorization: Bearer $TINA"
	expect_status 200
	expect_json '. == []' true
	tag PUT "$pub" Summer
	expect_status 201
	expect_json '. == ["Summer"]' true
	# Again, in any case and with spaces around: the same tag, 200.
	tag PUT "$pub" summer
	expect_status 200
	expect_json '. == ["Summer"]' true
	tag PUT "$pub" '%20SUMMER%E2%80%83'
	expect_status 200
	expect_json '. == ["Summer"]' true
	tag PUT "$pub" beach
	expect_status 201
	expect_json '. == ["beach","Summer"]' true
	req GET "/api/v1/media/$pub" -H "Authorization: Bearer $TINA"
	expect_json '.tags == ["beach","Summer"]' true
	req GET "/api/v1/media?owner=me&limit=100" -H "Authorization: Bearer $TINA"
	expect_json "[.data[] | select(.id == \"$pub\") | .tags] == [[\"beach\",\"Summer\"]]" true
	# Others see the tags of what they may see, and change none.
	req GET "/api/v1/media/$pub/tags" -H "Authorization: Bearer $TOM"
	expect_status 200
	expect_json 'length' 2
	tag PUT "$pub" mine "$TOM"
	expect_problem 403
	tag DELETE "$pub" beach "$TOM"
	expect_problem 403
	req GET "/api/v1/media/$priv/tags" -H "Authorization: Bearer $TOM"
	expect_problem 404
	tag PUT "$priv" mine "$TOM"
	expect_problem 404
	req GET "/api/v1/media/$pub/tags"
	expect_problem 401
	tag PUT not-a-uuid x
	expect_problem 404
	# An admin tags anyone's.
	tag PUT "$priv" moderated "$ADMIN"
	expect_status 201
	# Untag, in any case; a second time there is nothing to untag.
	tag DELETE "$pub" BEACH
	expect_status 204
	tag DELETE "$pub" beach
	expect_problem 404
	req GET "/api/v1/media/$pub/tags" -H "Authorization: Bearer $TINA"
	expect_json '. == ["Summer"]' true
	tag DELETE "$priv" moderated "$ADMIN"
	expect_status 204
	# Tags go with their item.
	req DELETE "/api/v1/media/$pub" -H "Authorization: Bearer $TINA"
	expect_status 204
	[ "$(psql_media "SELECT count(*) FROM media_item_tags WHERE media_id = '$pub'")" = 0 ] ||
	    fail "tag links outlived their item"
}

t_89f_one_tag_whatever_the_case_and_whoever_makes_it() {
	local a b i pids
	tags_setup || return
	upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
	a=$MID
	upload "$(unique_pdf)" application/pdf "visibility=public" "$TOM"
	b=$MID
	tag PUT "$a" Rainbow
	expect_status 201
	# tom writes it in capitals: the same tag, in its first case.
	tag PUT "$b" RAINBOW "$TOM"
	expect_status 201
	expect_json '. == ["Rainbow"]' true
	[ "$(psql_media "SELECT count(*) FROM media_tags WHERE lower(name) = 'rainbow'")" = 1 ] ||
	    fail "not one row for Rainbow"
	# Beyond ASCII: Été and ÉTÉ are one tag; spaces inside are one.
	tag PUT "$a" '%C3%89t%C3%A9'
	expect_status 201
	tag PUT "$b" '%C3%89T%C3%89' "$TOM"
	expect_status 201
	expect_json '. == ["Rainbow","Été"]' true
	tag PUT "$a" 'new%20%20%20york'
	expect_status 201
	expect_json 'any(. == "new york")' true
	req GET "/api/v1/media/tags/New%20York/items" -H "Authorization: Bearer $TOM"
	expect_status 200
	expect_json '[.data[].id] == ["'"$a"'"]' true
	# Many users make the same new tag at once: every one gets it.
	pids=
	for i in 1 2 3 4 5 6; do
		upload "$(unique_pdf)" application/pdf "" "$TINA"
		printf '%s\n' "$MID" >"$T_OUT/par.$i.id"
	done
	# Six users' worth of taggings of one new tag, all in flight at once.
	for i in 1 2 3 4 5 6; do
		gh_curl -sk -o "$T_OUT/par.$i" -w '%{http_code}' -X PUT \
		    -H "Authorization: Bearer $TINA" \
		    "$(gh_url "/api/v1/media/$(cat "$T_OUT/par.$i.id")/tags/AtOnce")" \
		    >"$T_OUT/par.$i.status" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$T_OUT/par.$i.status")" = 201 ] ||
		    fail "tagging at once $i: $(cat "$T_OUT/par.$i.status") $(cat "$T_OUT/par.$i")"
	done
	[ "$(psql_media "SELECT count(*) FROM media_tags WHERE lower(name) = 'atonce'")" = 1 ] ||
	    fail "not one row for a tag made at once"
	[ "$(psql_media "SELECT count(*) FROM media_item_tags l JOIN media_tags t ON t.id = l.tag_id WHERE t.name = 'AtOnce'")" = 6 ] ||
	    fail "not six items tagged at once"
}

t_89g_bad_tag_names_and_the_limit_are_422() {
	local id name long i n
	tags_setup || return
	upload "$(unique_pdf)" application/pdf "" "$TINA"
	id=$MID
	long=$(printf 'x%.0s' $(seq 51))
	for name in "$long" '%20%20' '%E2%80%83' 'a%01b' 'a%0Ab' 'a%7Fb' 'a%C2%85b' \
	    'a%2Fb' '..%2Fx' 'a%5Cb' 'a%2Cb' '%2E%2E' '%2E' 'a%E2%80%8Bb' \
	    'a%E2%80%AEb' 'a%E2%80%8Db' '%FF' '%C0%AF' "$(printf 'y%.0s' $(seq 2000))"; do
		tag PUT "$id" "$name"
		expect_problem 422
		expect_json '.errors[0].field' tag
	done
	[ "$(psql_media "SELECT count(*) FROM media_item_tags WHERE media_id = '$id'")" = 0 ] ||
	    fail "a bad name was stored"
	# Hostile but valid: stored and shown as written, nothing else.
	tag PUT "$id" '%27%20OR%201%3D1%20--'
	expect_status 201
	expect_json '. == ["'"'"' OR 1=1 --"]' true
	tag PUT "$id" '%3Cscript%3E%22%3B'
	expect_status 201
	expect_json 'any(. == "<script>\";")' true
	# 50 characters, even of four bytes each, and emoji sequences.
	tag PUT "$id" "$(printf 'z%.0s' $(seq 50))"
	expect_status 201
	tag PUT "$id" "$(printf '%%F0%%9F%%8C%%88%.0s' $(seq 50))"
	expect_status 201
	tag PUT "$id" '%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB'
	expect_status 201
	# Up to 20 tags on an item; the 21st is refused, an old one is not.
	n=$(psql_media "SELECT count(*) FROM media_item_tags WHERE media_id = '$id'")
	for i in $(seq $((n + 1)) 20); do
		tag PUT "$id" "t$i"
		expect_status 201
	done
	tag PUT "$id" t21
	expect_problem 422
	expect_json '.errors[0].field' tag
	expect_json '.detail | test("20")' true
	tag PUT "$id" T20
	expect_status 200
	expect_json length 20
	tag DELETE "$id" t20
	expect_status 204
	tag PUT "$id" t21
	expect_status 201
	# The bad names are 422 on every route that names a tag.
	tag DELETE "$id" 'a%2Fb'
	expect_problem 422
	req GET "/api/v1/media/tags/$long/items" -H "Authorization: Bearer $TINA"
	expect_problem 422
	req DELETE "/api/v1/media/tags/%2E%2E" -H "Authorization: Bearer $ADMIN"
	expect_problem 422
}

# ids_of_tag TAG TOKEN: every id of the tag's pages of two, in order.
ids_of_tag() {
	local after= i
	IDS=
	for i in $(seq 30); do
		req GET "/api/v1/media/tags/$1/items?limit=2${after:+&starting_after=$after}" \
		    -H "Authorization: Bearer $2"
		expect_status 200
		IDS="$IDS $(printf '%s' "$BODY" | jq -r '.data[].id' | tr '\n' ' ')"
		[ "$(printf '%s' "$BODY" | jq -r .has_more)" = true ] || break
		after=$(printf '%s' "$BODY" | jq -r '.data[-1].id')
	done
	IDS=$(printf '%s\n' $IDS)
}

t_89h_browse_by_tag_pages_and_visibility() {
	local pub= priv tompriv i want
	tags_setup || return
	for i in 1 2 3 4 5; do
		upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
		pub="$MID $pub"		# newest first
		tag PUT "$MID" Sunset
	done
	upload "$(unique_pdf)" application/pdf "" "$TINA"
	priv=$MID
	tag PUT "$priv" sunset
	upload "$(unique_pdf)" application/pdf "" "$TOM"
	tompriv=$MID
	tag PUT "$tompriv" SUNSET "$TOM"
	# tom: his own and tina's public ones, newest first, never her private one.
	ids_of_tag sunset "$TOM"
	want=$(printf '%s\n' "$tompriv" $pub)
	[ "$IDS" = "$want" ] || fail "tom's pages: $(echo $IDS), wanted $(echo $want)"
	# tina: hers, not tom's private one; the admin: all of them.
	ids_of_tag SunSet "$TINA"
	want=$(printf '%s\n' "$priv" $pub)
	[ "$IDS" = "$want" ] || fail "tina's pages: $(echo $IDS), wanted $(echo $want)"
	ids_of_tag sunset "$ADMIN"
	want=$(printf '%s\n' "$tompriv" "$priv" $pub)
	[ "$IDS" = "$want" ] || fail "the admin's pages: $(echo $IDS), wanted $(echo $want)"
	req GET "/api/v1/media/tags/sunset/items?limit=1" -H "Authorization: Bearer $TOM"
	expect_json '.data[0].tags == ["Sunset"]' true
	expect_json .has_more true
	# An unknown tag has no items; bad page parameters are 400.
	req GET /api/v1/media/tags/no-such-tag/items -H "Authorization: Bearer $TOM"
	expect_status 200
	expect_json '.data == [] and .has_more == false' true
	req GET "/api/v1/media/tags/sunset/items?limit=0" -H "Authorization: Bearer $TOM"
	expect_problem 400
	req GET "/api/v1/media/tags/sunset/items?starting_after=x" -H "Authorization: Bearer $TOM"
	expect_problem 400
	req GET /api/v1/media/tags/sunset/items
	expect_problem 401
}

# A tag's pages by cursor go on after an item that turned private or went.
t_89hb_tag_pages_go_on_after_a_hidden_item() {
	local ids= i cursor
	tags_setup || return
	for i in 1 2 3 4 5; do
		upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
		ids="$MID $ids"
		tag PUT "$MID" Dusk
	done
	set -- $ids
	ids_of_pages /api/v1/media/tags/dusk/items "$TOM"
	[ "$IDS" = "$*" ] || fail "pages: $IDS, wanted $*"
	req GET "/api/v1/media/tags/dusk/items?limit=2" -H "Authorization: Bearer $TOM"
	expect_json '[.data[].id] | join(" ")' "$1 $2"
	cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)
	req PATCH "/api/v1/media/$2" -H "Authorization: Bearer $TINA" \
	    -H 'Content-Type: application/json' --data-raw '{"visibility":"private"}'
	expect_status 200
	req GET "/api/v1/media/tags/dusk/items?limit=2&cursor=$cursor" -H "Authorization: Bearer $TOM"
	expect_status 200
	expect_json '[.data[].id] | join(" ")' "$3 $4"
	cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)
	req DELETE "/api/v1/media/$4" -H "Authorization: Bearer $TINA"
	expect_status 204
	req GET "/api/v1/media/tags/dusk/items?limit=2&cursor=$cursor" -H "Authorization: Bearer $TOM"
	expect_json '[.data[].id] | join(" ")' "$5"
	expect_json '.has_more == false and .next_cursor == null' true
	req GET "/api/v1/media/tags/dusk/items?cursor=%2F%2F" -H "Authorization: Bearer $TOM"
	expect_problem 400
	expect_json '.errors[0].field' cursor
}

t_89i_tags_by_use_count_visible_items_only() {
	local i
	tags_setup || return
	for i in 1 2 3; do
		upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
		tag PUT "$MID" Popular
	done
	upload "$(unique_pdf)" application/pdf "" "$TINA"
	tag PUT "$MID" Popular
	tag PUT "$MID" Secret
	upload "$(unique_pdf)" application/pdf "visibility=public" "$TOM"
	tag PUT "$MID" popular "$TOM"
	tag PUT "$MID" Popsicle "$TOM"
	req GET "/api/v1/media/tags?prefix=pop" -H "Authorization: Bearer $TOM"
	expect_status 200
	expect_json '.data == [{"name":"Popular","count":4},{"name":"Popsicle","count":1}]' true
	req GET "/api/v1/media/tags?prefix=POP" -H "Authorization: Bearer $TINA"
	expect_json '.data[0] == {"name":"Popular","count":5}' true
	req GET "/api/v1/media/tags?prefix=secret" -H "Authorization: Bearer $TOM"
	expect_json '.data == []' true
	req GET "/api/v1/media/tags?prefix=secret" -H "Authorization: Bearer $ADMIN"
	expect_json '.data == [{"name":"Secret","count":1}]' true
	req GET "/api/v1/media/tags?owner=me&prefix=pop" -H "Authorization: Bearer $TOM"
	expect_json '.data == [{"name":"Popsicle","count":1},{"name":"Popular","count":1}]' true
	req GET "/api/v1/media/tags?limit=1" -H "Authorization: Bearer $TINA"
	expect_json '.data | length' 1
	expect_json '.data[0].count >= 5' true
	req GET "/api/v1/media/tags?limit=0" -H "Authorization: Bearer $TINA"
	expect_problem 400
	req GET "/api/v1/media/tags?owner=someone" -H "Authorization: Bearer $TINA"
	expect_problem 400
	req GET "/api/v1/media/tags?prefix=a%2Fb" -H "Authorization: Bearer $TINA"
	expect_problem 400
	req GET /api/v1/media/tags
	expect_problem 401
}

t_89j_an_admin_removes_a_tag_everywhere() {
	local a b
	tags_setup || return
	upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
	a=$MID
	tag PUT "$a" 'Spam%20Ads'
	tag PUT "$a" keep
	upload "$(unique_pdf)" application/pdf "" "$TOM"
	b=$MID
	tag PUT "$b" 'spam%20ads' "$TOM"
	req DELETE "/api/v1/media/tags/spam%20ads" -H "Authorization: Bearer $TOM"
	expect_problem 403
	req DELETE "/api/v1/media/tags/spam%20ads"
	expect_problem 401
	req DELETE "/api/v1/media/tags/SPAM%20ADS" -H "Authorization: Bearer $ADMIN"
	expect_status 200
	expect_json .name 'Spam Ads'
	expect_json .items 2
	req GET "/api/v1/media/$a/tags" -H "Authorization: Bearer $TINA"
	expect_json '. == ["keep"]' true
	req GET "/api/v1/media/$b/tags" -H "Authorization: Bearer $TOM"
	expect_json '. == []' true
	req GET "/api/v1/media/$b" -H "Authorization: Bearer $TOM"
	expect_status 200
	req DELETE "/api/v1/media/tags/spam%20ads" -H "Authorization: Bearer $ADMIN"
	expect_problem 404
	# A tag named like a route is still a tag.
	tag PUT "$a" likes
	req DELETE /api/v1/media/tags/likes -H "Authorization: Bearer $ADMIN"
	expect_status 200
	expect_json .items 1
}

# plant_thumb ID: a thumbnail file next to the item's file, and its row.
plant_thumb() {
	local sp tp
	sp=$(psql_media "SELECT storage_path FROM media WHERE id = '$1'")
	tp="${sp%/*}/${sp:0:2}${sp:3:2}$(openssl rand -hex 14)"
	printf 'RIFF\x1a\x00\x00\x00WEBP' >"$GH_STATE/media/$tp"
	psql_media "UPDATE media SET thumb_path = '$tp', thumb_width = 16, thumb_height = 9 WHERE id = '$1'" >/dev/null
	THUMB="$GH_STATE/media/$tp"
}

t_89k_thumbnail_field() {
	local path
	tags_setup || return
	upload "$(unique_pdf)" application/pdf "" "$TINA"
	expect_status 201
	expect_json .thumbnail null
	expect_json .tags '[]'
	req GET "/api/v1/media/$MID" -H "Authorization: Bearer $TINA"
	expect_json .thumbnail null
	req GET "/api/v1/media/$MID/thumbnail" -H "Authorization: Bearer $TINA"
	expect_problem 404
	# With one (as the thumbnailer records it): its url and size.
	plant_thumb "$MID"
	req GET "/api/v1/media/$MID" -H "Authorization: Bearer $TINA"
	expect_json .thumbnail.url "/api/v1/media/$MID/thumbnail"
	expect_json '"\(.thumbnail.width)x\(.thumbnail.height)"' 16x9
	path="$GH_STATE/media/$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")"
	[ -f "$THUMB" ] && [ -f "$path" ] || fail "no files to delete"
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $TINA"
	expect_status 204
	[ ! -e "$THUMB" ] || fail "the thumbnail outlived its item"
	[ ! -e "$path" ] || fail "the file outlived its item"
}

t_89l_an_account_deletes_its_media() {
	local pat_at pat_id theirs mine1 mine2 f1 f2 t2 bytes c_on_theirs c_on_mine f
	tags_setup || return
	media_user pat && pat_at=$AT pat_id=$UID_
	upload "$(unique_pdf)" application/pdf "visibility=public" "$TINA"
	theirs=$MID
	json_post "/api/v1/media/$theirs/comments" '{"body":"tina was here"}' -H "Authorization: Bearer $TINA"
	upload "$(unique_pdf)" application/pdf "visibility=public" "$pat_at"
	mine1=$MID
	f1=$(psql_media "SELECT storage_path FROM media WHERE id = '$mine1'")
	plant_thumb "$mine1"
	upload "$(mkfile gif)" image/gif "" "$pat_at"
	mine2=$MID
	f2=$(psql_media "SELECT storage_path FROM media WHERE id = '$mine2'")
	# (the thumbnailer's, when it made one)
	t2=$(psql_media "SELECT thumb_path FROM media WHERE id = '$mine2'")
	tag PUT "$mine1" patstuff "$pat_at"
	# pat on tina's item; tina and tom on pat's.
	json_post "/api/v1/media/$theirs/comments" '{"body":"pat was here"}' -H "Authorization: Bearer $pat_at"
	c_on_theirs=$(printf '%s' "$BODY" | jq -r .id)
	req POST "/api/v1/media/$theirs/likes" -H "Authorization: Bearer $pat_at"
	req PUT "/api/v1/media/$theirs/rating" -H "Authorization: Bearer $pat_at" \
	    -H 'Content-Type: application/json' --data-raw '{"stars":2}'
	req POST "/api/v1/media/$theirs/likes" -H "Authorization: Bearer $TOM"
	json_post "/api/v1/media/$mine1/comments" '{"body":"nice"}' -H "Authorization: Bearer $TINA"
	c_on_mine=$(printf '%s' "$BODY" | jq -r .id)
	# Nobody else may; the wrong id is nobody.
	req DELETE "/api/v1/media/users/$pat_id" -H "Authorization: Bearer $TOM"
	expect_problem 403
	req DELETE "/api/v1/media/users/$pat_id"
	expect_problem 401
	req DELETE /api/v1/media/users/not-a-user -H "Authorization: Bearer $pat_at"
	expect_problem 404
	[ -f "$GH_STATE/media/$f1" ] || fail "a refused purge removed a file"
	bytes=$(psql_media "SELECT sum(size) FROM media WHERE owner = '$pat_id'")
	media_grant "$pat_at"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $pat_at" \
	    -H "Gatehouse-Grant: $GRANT"
	expect_status 200
	expect_json .user_id "$pat_id"
	expect_json .items 2
	expect_json .bytes "$bytes"
	expect_json .comments 1
	expect_json .likes 1
	expect_json .ratings 1
	for f in "$GH_STATE/media/$f1" "$GH_STATE/media/$f2" "$THUMB" \
	    ${t2:+"$GH_STATE/media/$t2"}; do
		[ ! -e "$f" ] || fail "$f outlived the account's media"
	done
	req GET "/api/v1/media/$mine1" -H "Authorization: Bearer $TINA"
	expect_problem 404
	[ "$(psql_media "SELECT count(*) FROM media_comments WHERE id IN ('$c_on_theirs', '$c_on_mine')")" = 0 ] ||
	    fail "the account's comments, or those on its items, are left"
	# tina's item is whole, with her comment and tom's like.
	req GET "/api/v1/media/$theirs/comments" -H "Authorization: Bearer $TINA"
	expect_json .count 1
	expect_json '.data[0].body' 'tina was here'
	req GET "/api/v1/media/$theirs/likes" -H "Authorization: Bearer $TINA"
	expect_json .count 1
	req GET "/api/v1/media/$theirs/rating" -H "Authorization: Bearer $TINA"
	expect_json .count 0
	download "/api/v1/media/$theirs/file" "$TINA"
	[ "$STATUS" = 200 ] || fail "tina's file: $STATUS"
	# Again, with a new grant (one works once, t_89lc): nothing left, zeros.
	media_grant "$pat_at"
	req DELETE "/api/v1/media/users/$pat_id" -H "Authorization: Bearer $pat_at" \
	    -H "Gatehouse-Grant: $GRANT"
	expect_status 200
	expect_json '[.items, .bytes, .comments, .likes, .ratings] == [0,0,0,0,0]' true
}

t_89m_an_admin_deletes_an_accounts_media() {
	local q_at q_id f
	tags_setup || return
	media_user quinn && q_at=$AT q_id=$UID_
	upload "$(unique_pdf)" application/pdf "" "$q_at"
	f=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	upload "$(unique_pdf)" application/pdf "" "$TOM"
	# The admin's own grant (admin_token's user, forged like it).
	req DELETE "/api/v1/media/users/$q_id" -H "Authorization: Bearer $ADMIN"
	expect_problem 403
	req DELETE "/api/v1/media/users/$(printf '%s' "$q_id" | tr a-f A-F)" -H "Authorization: Bearer $ADMIN" \
	    -H "Gatehouse-Grant: $(forged_grant 00000000-0000-4000-8000-000000000001 admin)"
	expect_status 200
	expect_json .items 1
	[ ! -e "$GH_STATE/media/$f" ] || fail "the file outlived the purge"
	req GET "/api/v1/media/$MID" -H "Authorization: Bearer $TOM"
	expect_status 200
}

# forged_grant SUB ROLE [AUD_SUFFIX [EXP_OFFSET [SID]]]: a grant signed with
# the real key, as auth would make one (or bent, by the arguments).
forged_grant() {
	forge_token "$1" "$2" "gatehouse-api${3-/grant/delete_media}" "${4:-300}" "${5-}"
}

# A purge takes a grant of the password of whoever asks, just typed, and
# nothing else: no grant, an access token, another user's or another
# session's grant, another purpose's, an expired or bent one: each 403,
# nothing deleted.  A grant is no access token either.
t_89lb_a_purge_needs_a_fresh_grant() {
	local r_at r_id r_sid r2_at f g other tom_grant what i c
	tags_setup || return
	media_user rhea && r_at=$AT r_id=$UID_
	r_sid=$(part 2 "$r_at" | jq -r .sid)
	upload "$(unique_pdf)" application/pdf "" "$r_at"
	f=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	media_grant "$TOM"
	tom_grant=$GRANT
	login rhea
	r2_at=$AT
	media_grant "$r2_at"
	other=$GRANT
	media_grant "$r_at"
	g=$GRANT
	json_post /api/v1/auth/me/password/verify '{"password":"not-rheas-password"}' \
	    -H "Authorization: Bearer $r_at"
	expect_problem 403
	[ "$(printf '%s' "$BODY" | jq -r '.grant // empty')" = "" ] || fail "a wrong password got a grant"
	refused() { # WHAT GRANT
		req DELETE /api/v1/media/users/me -H "Authorization: Bearer $r_at" ${2:+-H "Gatehouse-Grant: $2"}
		[ "$STATUS" = 403 ] || fail "$1: status $STATUS"
		expect_header content-type application/problem+json
	}
	refused "no grant" ""
	expect_json '.detail | test("password")' true
	refused "the access token as a grant" "$r_at"
	refused "another user's grant" "$tom_grant"
	refused "another session's grant" "$other"
	refused "a grant for another purpose" "$(forged_grant "$r_id" user /grant/other 300 "$r_sid")"
	refused "the API's audience" "$(forged_grant "$r_id" user "" 300 "$r_sid")"
	refused "an expired grant" "$(forged_grant "$r_id" user /grant/delete_media -120 "$r_sid")"
	# (a character well inside the signature: the last one's low bits are
	# padding, which a decoder may ignore)
	i=$(( ${#g} - 20 ))
	c=${g:$i:1}
	[ "$c" = A ] && c=B || c=A
	refused "a bent signature" "${g:0:$i}$c${g:$((i + 1))}"
	refused "garbage" "not.a.grant"
	[ -f "$GH_STATE/media/$f" ] || fail "a refused purge removed the file"
	[ "$(psql_media "SELECT count(*) FROM media WHERE owner = '$r_id'")" = 1 ] ||
	    fail "a refused purge removed the row"
	# A grant is no access token, at any service.
	for what in /api/v1/auth/me /api/v1/media /api/v1/payments; do
		req GET "$what" -H "Authorization: Bearer $g"
		[ "$STATUS" = 401 ] || fail "the grant as an access token at $what: $STATUS"
	done
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $r_at" -H "Gatehouse-Grant: $g"
	expect_status 200
	expect_json .items 1
	[ ! -e "$GH_STATE/media/$f" ] || fail "the file outlived the purge"
	unset -f refused
}

# sweep ARGS...: gatehouse-media --sweep with the media pool's settings
# (GH_DB replaced by SWEEP_DB when set), as the workers' user; its output
# in $T_OUT/sweep.out and .err, its status in SWEEP_RC.
sweep() {
	local -a env=()
	local kv
	while IFS= read -r kv; do
		case $kv in GH_DB=*) kv="GH_DB=${SWEEP_DB:-${kv#GH_DB=}}" ;; esac
		env+=("$kv")
	done <<-EOF
	$(gh_pool_env media)
	EOF
	SWEEP_RC=0
	if gh_is_root; then
		runuser -u "$(gh_worker_user)" -- env "${env[@]}" \
		    "$GH_STATE/bin/gatehouse-media" --sweep "$@"
	else
		env "${env[@]}" "$GH_STATE/bin/gatehouse-media" --sweep "$@"
	fi >"$T_OUT/sweep.out" 2>"$T_OUT/sweep.err" || SWEEP_RC=$?
}

t_89n_sweep_removes_old_orphans_only() {
	local sp dir old young far link foreign tmpold kept outside n_tags
	tags_setup || return
	upload "$(unique_pdf)" application/pdf "" "$TINA"
	sp=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	dir="$GH_STATE/media/${sp%/*}"
	kept="$GH_STATE/media/$sp"
	# An old file rows name is kept however old; an old orphan goes, a
	# young one (its row may be about to commit) stays.
	touch -d '3 hours ago' "$kept"
	old="$dir/${sp:0:2}${sp:3:2}$(openssl rand -hex 14)"
	young="$dir/${sp:0:2}${sp:3:2}$(openssl rand -hex 14)"
	printf 'orphan' >"$old"
	printf 'young' >"$young"
	touch -d '2 hours ago' "$old"
	# In a shard of its own too.
	mkdir -p "$GH_STATE/media/fe/dc"
	far="$GH_STATE/media/fe/dc/fedc$(openssl rand -hex 14)"
	printf 'far' >"$far"
	touch -d '2 days ago' "$far"
	# Left alone: a link (to a file outside), a name the store never makes.
	outside="$T_OUT/outside-target"
	printf 'keep me' >"$outside"
	touch -d '2 hours ago' "$outside"
	link="$dir/${sp:0:2}${sp:3:2}$(openssl rand -hex 14)"
	ln -s "$outside" "$link"
	touch -h -d '2 hours ago' "$link"
	foreign="$dir/notes.txt"
	printf 'x' >"$foreign"
	touch -d '2 hours ago' "$foreign"
	tmpold="$GH_STATE/media/tmp/$(openssl rand -hex 16)"
	printf 'half' >"$tmpold"
	touch -d '2 hours ago' "$tmpold"
	gh_is_root && chown -R "$(gh_worker_user)": "$GH_STATE/media/fe" "$old" "$young" "$tmpold"
	# An unused tag, old: it goes; an old one in use stays.
	tag PUT "$MID" leftover
	tag PUT "$MID" inuse
	tag DELETE "$MID" leftover
	psql_media "UPDATE media_tags SET used_at = now() - interval '2 hours' WHERE name IN ('leftover', 'inuse')" >/dev/null
	n_tags=$(psql_media "SELECT count(*) FROM media_tags")

	# Another service's database: refused, nothing removed.
	SWEEP_DB="host=$GH_STATE/pg/sock port=5432 dbname=gatehouse_payments user=gatehouse_payment_app" \
	    sweep
	[ "$SWEEP_RC" = 1 ] || fail "another database: status $SWEEP_RC"
	grep -q "not the media service" "$T_OUT/sweep.err" || fail "no reason: $(cat "$T_OUT/sweep.err")"
	[ -e "$old" ] || fail "removed with another database"

	sweep --dry-run
	[ "$SWEEP_RC" = 0 ] || fail "dry run: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	grep -q "^would remove ${old#"$GH_STATE/media/"}\$" "$T_OUT/sweep.out" ||
	    fail "the dry run does not name the orphan: $(cat "$T_OUT/sweep.out")"
	grep -q '^would remove 2 orphan files (9 bytes), 1 temporaries, 1 unused tags' "$T_OUT/sweep.out" ||
	    fail "dry run: $(tail -n 1 "$T_OUT/sweep.out")"
	[ -e "$old" ] && [ -e "$far" ] && [ -e "$tmpold" ] || fail "the dry run removed something"
	[ "$(psql_media "SELECT count(*) FROM media_tags")" = "$n_tags" ] || fail "the dry run removed a tag"

	sweep
	[ "$SWEEP_RC" = 0 ] || fail "sweep: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	grep -q '^removed 2 orphan files (9 bytes), 1 temporaries, 1 unused tags' "$T_OUT/sweep.out" ||
	    fail "sweep: $(tail -n 1 "$T_OUT/sweep.out")"
	[ "$(jq -c 'select(.event == "sweep" and (.msg | test("^removed orphan")))' \
	    "$T_OUT/sweep.err" 2>/dev/null | wc -l)" = 2 ] ||
	    fail "not a log line per file: $(cat "$T_OUT/sweep.err")"
	[ ! -e "$old" ] || fail "the old orphan is still there"
	[ ! -e "$far" ] || fail "the old orphan of another shard is still there"
	[ ! -e "$tmpold" ] || fail "the old temporary is still there"
	[ -e "$young" ] || fail "the young orphan was removed"
	[ -e "$kept" ] || fail "a file a row names was removed"
	[ -L "$link" ] && [ -e "$outside" ] || fail "the link or its target was removed"
	[ -e "$foreign" ] || fail "a file the store did not make was removed"
	[ "$(psql_media "SELECT string_agg(name, ',' ORDER BY name) FROM media_tags WHERE name IN ('leftover', 'inuse')")" = inuse ] ||
	    fail "unused tags: $(psql_media "SELECT string_agg(name, ',') FROM media_tags WHERE name IN ('leftover', 'inuse')")"
	download "/api/v1/media/$MID/file" "$TINA"
	[ "$STATUS" = 200 ] || fail "the kept file: $STATUS"
	# Bad arguments.
	sweep --grace 5
	[ "$SWEEP_RC" = 2 ] || fail "--grace 5: status $SWEEP_RC"
	sweep --bogus
	[ "$SWEEP_RC" = 2 ] || fail "--bogus: status $SWEEP_RC"
	rm -f "$young" "$link" "$foreign" "$outside"
}
