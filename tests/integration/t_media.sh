# shellcheck shell=bash
# Media: uploads checked by their own bytes, limits that leave nothing on
# disk, access, downloads served by nginx, signed links.
# Uses signup/login (t_auth.sh) and FORGE for an admin token.

MEDIA_MAX=1048576		# GH_MEDIA_MAX=1m for these cases
MEDIA_QUOTA=3145728		# GH_MEDIA_QUOTA=3m

# The media pool again with small limits, once, so that 413 and the
# quota need only small files.
media_setup() {
	[ -n "${T_MEDIA_READY-}" ] && return 0
	T_MEDIA_DIR="$T_OUT/media-files"
	mkdir -p "$T_MEDIA_DIR"
	gh_pool_stop media
	GH_MEDIA_MAX=1m GH_MEDIA_QUOTA=3m gh_pool_start media
	pool_wait media || return 1
	media_user mia && MIA=$AT MIA_ID=$UID_
	media_user noah && NOAH=$AT
	T_MEDIA_READY=1
}

media_user() {
	signup "$1"
	login "$1"
	[ -n "$AT" ] && [ "$AT" != null ] || fail "no token for $1"
}

# media_grant TOKEN: in GRANT, the grant of the token's user's password
# ($PW; auth's password/verify) that a purge of their media needs.
media_grant() {
	json_post /api/v1/auth/me/password/verify "{\"password\":\"$PW\"}" \
	    -H "Authorization: Bearer $1"
	expect_status 200
	GRANT=$(printf '%s' "$BODY" | jq -r .grant)
}

# mkfile NAME: a small file of each kind, made from its magic bytes.
mkfile() {
	local f="$T_MEDIA_DIR/$1"
	case $1 in
	png)	printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x03\x00\x00\x00\x02\x08\x02\x00\x00\x00\x12\x16\xf1\x4d\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x41\x0c\x70\x16\x00\x41\xd2\x05\xfb\x87\xf0\xb9\x48\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' ;;
	gif)	printf 'GIF89a\x05\x00\x04\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x05\x00\x04\x00\x00\x02\x02\x44\x01\x00\x3b' ;;
	# APP0 (JFIF) first, then a baseline SOF0 of 9 x 7.
	jpg)	printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xc0\x00\x11\x08\x00\x07\x00\x09\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9' ;;
	# Lossless (VP8L) 1 x 1; lossy (VP8) 7 x 5; extended (VP8X, with an
	# alpha chunk) 300 x 2: each as libwebp wrote it, the last two
	# without their metadata chunks.
	webp)	printf 'RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00' ;;
	webp-lossy) printf 'RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x07\x00\x05\x00\x01\x40\x26\x25\xa4\x00\x03\x70\x00\xfe\xfd\x36\x68\x00' ;;
	webp-alpha) printf 'RIFF\x5e\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00\x2b\x01\x00\x01\x00\x00ALPH\x09\x00\x00\x00\x01\x07\x10\x11\x11\x88\x88\xfe\x07\x00VP8 \x2e\x00\x00\x00\xb0\x03\x00\x9d\x01\x2a\x2c\x01\x02\x00\x3e\x6d\x36\x98\x49\x24\x23\x22\xa1\x21\xa8\x00\x80\x0d\x89\x69\x00\x00\x0c\x74\xe1\xc3\x87\x0e\x1c\x38\x6e\x80\x00\xfe\xfb\x9c\xc0\x00\x00\x00' ;;
	mp4)	printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41\x00\x00\x00\x08free' ;;
	m4a)	printf '\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom\x00\x00\x00\x08free' ;;
	webm)	printf '\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02' ;;
	mp3)	printf 'ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64\x00\x00\x00\x00' ;;
	ogg)	printf 'OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e\x01vorbis\x00\x00\x00\x00\x01\x44\xac\x00\x00' ;;
	pdf)	printf '%%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%%%EOF\n' ;;
	elf)	printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00' ;;
	text)	printf 'hello, I am plain text\n' ;;
	esac >"$f"
	printf '%s\n' "$f"
}

# upload FILE TYPE [QUERY [TOKEN [curl args...]]]: POST the raw bytes.
upload() {
	local file=$1 type=$2 query=${3-} tok=${4:-$MIA}
	shift 4 2>/dev/null || shift $#
	req POST "/api/v1/media${query:+?$query}" -H "Authorization: Bearer $tok" \
	    -H "Content-Type: $type" --data-binary @"$file" "$@"
	MID=$(printf '%s' "$BODY" | jq -r .id 2>/dev/null)
}

# Files kept under the media root, temporaries apart; and temporaries.
stored_files() {
	find "$GH_STATE/media" -type f -not -path "$GH_STATE/media/tmp/*" | wc -l
}
tmp_files() {
	find "$GH_STATE/media/tmp" -type f 2>/dev/null | wc -l
}

# stored_path SHA256: the stored file with that content.
stored_path() {
	find "$GH_STATE/media" -type f -not -path "$GH_STATE/media/tmp/*" \
	    -exec sha256sum {} + | awk -v s="$1" '$1 == s { print $2; exit }'
}

sha_of() {
	sha256sum "$1" | cut -d' ' -f1
}

# download PATH [TOKEN [curl args...]]: the body goes to $T_OUT/dl.
download() {
	local path=$1 tok=${2-}
	shift 2 2>/dev/null || shift $#
	local out
	out=$(gh_curl -sk --http2 -D "$T_OUT/h" -o "$T_OUT/dl" -w '%{http_code}' \
	    ${tok:+-H "Authorization: Bearer $tok"} "$@" "$(gh_url "$path")") || true
	STATUS=$out
	BODY=$(head -c 2000 "$T_OUT/dl" 2>/dev/null | tr -d '\0')
	HEADERS=$(tr -d '\r' <"$T_OUT/h" 2>/dev/null | sed 's/^\([^:]*\):/\L\1:/')
}

t_80_each_allowed_type_from_its_bytes() {
	local kind type want f sha
	media_setup || return
	while read -r kind type want; do
		f=$(mkfile "$kind")
		sha=$(sha_of "$f")
		upload "$f" "$type" "title=$kind%20file&filename=x.$kind"
		expect_status 201
		expect_json .type "$want"
		expect_json .size "$(stat -c %s "$f")"
		expect_json .sha256 "$sha"
		expect_json .owner "$MIA_ID"
		expect_json .title "$kind file"
		expect_json .visibility private
		expect_json .url "/api/v1/media/$MID/file"
		expect_json '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true
		expect_header etag "\"$sha\""
		expect_header repr-digest "sha-256=:$(openssl dgst -sha256 -binary "$f" | openssl base64 -A):"
		expect_header location "/api/v1/media/$MID"
	done <<-EOF
	png image/png image/png
	gif image/gif image/gif
	jpg image/jpeg image/jpeg
	webp image/webp image/webp
	mp4 video/mp4 video/mp4
	m4a audio/mp4 audio/mp4
	webm video/webm video/webm
	mp3 audio/mpeg audio/mpeg
	ogg audio/ogg audio/ogg
	pdf application/pdf application/pdf
	EOF
	# Dimensions from the headers; an undeclared type is taken from the bytes.
	upload "$(mkfile png)" application/octet-stream
	expect_status 201
	expect_json '"\(.width)x\(.height)"' 3x2
	upload "$(mkfile gif)" image/gif
	expect_json '"\(.width)x\(.height)"' 5x4
	upload "$(mkfile jpg)" image/jpg
	expect_json '"\(.width)x\(.height)"' 9x7
	upload "$(mkfile webp)" image/webp
	expect_json '"\(.width)x\(.height)"' 1x1
	upload "$(mkfile webp-lossy)" image/webp
	expect_status 201
	expect_json '"\(.width)x\(.height)"' 7x5
	upload "$(mkfile webp-alpha)" image/webp
	expect_status 201
	expect_json '"\(.width)x\(.height)"' 300x2
	upload "$(mkfile pdf)" application/pdf
	expect_json .width null
}

t_81_disguised_files_are_415() {
	local before
	media_setup || return
	before=$(stored_files)
	upload "$(mkfile elf)" image/png
	expect_problem 415
	upload "$(mkfile png)" image/jpeg
	expect_problem 415
	expect_json '.detail | test("image/png.*image/jpeg")' true
	upload "$(mkfile png)" image/png "filename=photo.jpg"
	expect_problem 415
	upload "$(mkfile text)" text/plain
	expect_problem 415
	# curl's default for --data-binary is a form type: not an image either.
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    --data-binary @"$(mkfile png)"
	expect_problem 415
	[ "$(stored_files)" = "$before" ] || fail "a refused file was kept"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
}

t_82_too_big_is_413_and_nothing_on_disk() {
	local f before
	media_setup || return
	before=$(stored_files)
	f="$T_MEDIA_DIR/big.png"
	{ printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR'; head -c $((MEDIA_MAX - 15)) /dev/zero; } >"$f"
	upload "$f" image/png
	expect_problem 413
	expect_json '.detail | test("limit")' true
	# Chunked: nginx buffers the body and passes its length on, so this is
	# refused before a byte is read too (the worker also stops streaming
	# at the limit, should a body come without a length).
	upload "$f" image/png "" "$MIA" --http1.1 -H 'Transfer-Encoding: chunked'
	expect_problem 413
	[ "$(stored_files)" = "$before" ] || fail "a too large file was kept"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
	# Exactly the limit is taken.
	head -c "$MEDIA_MAX" "$f" >"$f.ok"
	upload "$f.ok" image/png
	expect_status 201
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $MIA"
	expect_status 204
}

# Bodies nginx is holding for requests, in its client_body_temp_path
# (nginx/nginx-local.conf.in): nginx unlinks such a file as soon as it has
# opened it, so they are the files left in the folder plus the descriptors
# its processes hold on names there.
body_temp_files() {
	local master pid n
	n=$(find "$GH_STATE/tmp/client_body" -type f 2>/dev/null | wc -l)
	master=$(gh_nginx_pid)
	for pid in $master $(pgrep -P "$master"); do
		n=$((n + $(find "/proc/$pid/fd" -lname "$GH_STATE/tmp/client_body/*" \
		    2>/dev/null | wc -l)))
	done
	printf '%s\n' "$n"
}

# cut_upload NAME CURL-ARGS...: an upload of a 900 kB PDF that the client
# gives up on after about 200 kB. Checks that nginx was holding part of it
# while it came, that nothing of it is left anywhere once the client has
# gone, and that the next upload is taken.
cut_upload() {
	local name=$1 before pid held=0 next
	shift
	before=$(stored_files)
	[ "$(body_temp_files)" = 0 ] ||
	    fail "$name: nginx holds $(body_temp_files) bodies before the upload"
	curl -sk --limit-rate 150k --max-time 1.5 -o /dev/null \
	    -H "Authorization: Bearer $MIA" "$@" "$(gh_url /api/v1/media)" \
	    2>/dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(body_temp_files)" -gt 0 ] && { held=1; break; }
		sleep 0.05
	done
	wait "$pid"
	[ "$held" = 1 ] || fail "$name: nginx never spooled the body to $GH_STATE/tmp/client_body"
	for _ in $(seq 50); do
		[ "$(body_temp_files)" = 0 ] && break
		sleep 0.1
	done
	[ "$(body_temp_files)" = 0 ] ||
	    fail "$name: nginx kept $(body_temp_files) bodies after the client left"
	# A worker, had it been handed the body, would be done by now.
	sleep 0.3
	[ "$(stored_files)" = "$before" ] || fail "$name: a partial file was kept"
	[ "$(tmp_files)" = 0 ] || fail "$name: a temporary file was left"
	# nginx's last word on it: the client went away (400 over HTTP/1.1,
	# 499 over HTTP/2), and no worker was asked.
	tail -n 1 "$GH_STATE/logs/access.log" | jq -e '.request_method == "POST" and
	    .uri == "/api/v1/media" and (.status == 400 or .status == 499) and
	    .upstream_addr == ""' >/dev/null ||
	    fail "$name: not logged as cut before any worker: $(tail -n 1 "$GH_STATE/logs/access.log")"
	next="$T_MEDIA_DIR/next.png"
	{ cat "$(mkfile png)"; printf 'after %s %s' "$name" "$(date +%s%N)"; } >"$next"
	upload "$next" image/png "title=after%20$name"
	expect_status 201
	[ -n "$(stored_path "$(sha_of "$next")")" ] ||
	    fail "$name: the next upload was not stored"
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $MIA"
	expect_status 204
}

# A client that stops mid-upload, raw or as a form, over HTTP/1.1 (with a
# length or chunked) and HTTP/2: nginx holds the body until it is whole, so
# no worker ever sees a part, and what nginx held goes with the client.
t_82b_cut_uploads_leave_nothing() {
	local f
	media_setup || return
	f="$T_MEDIA_DIR/cut.pdf"
	{ printf '%%PDF-1.4\n'; head -c 900000 /dev/urandom; } >"$f"
	cut_upload raw-http1.1 --http1.1 -H 'Content-Type: application/pdf' \
	    --data-binary @"$f"
	cut_upload chunked-http1.1 --http1.1 -H 'Content-Type: application/pdf' \
	    -H 'Transfer-Encoding: chunked' --data-binary @"$f"
	cut_upload raw-http2 --http2 -H 'Content-Type: application/pdf' \
	    --data-binary @"$f"
	cut_upload form-http1.1 --http1.1 -F title=cut \
	    -F "file=@$f;type=application/pdf;filename=cut.pdf"
	cut_upload form-http2 --http2 -F title=cut \
	    -F "file=@$f;type=application/pdf;filename=cut.pdf"
	# The whole file still goes in, both ways.
	upload "$f" application/pdf "" "$MIA" --http2
	expect_status 201
	expect_json .size "$(stat -c %s "$f")"
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $MIA"
	expect_status 204
	req POST /api/v1/media -H "Authorization: Bearer $MIA" --http1.1 \
	    -F "file=@$f;type=application/pdf"
	expect_status 201
	expect_json .sha256 "$(sha_of "$f")"
	MID=$(printf '%s' "$BODY" | jq -r .id)
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $MIA"
	expect_status 204
}

# mk_pdf NAME [BYTES]: a PDF of its own bytes (no thumbnail: one file).
mk_pdf() {
	local f="$T_MEDIA_DIR/$1.pdf"
	{ printf '%%PDF-1.4\n'; head -c "${2:-2000}" /dev/urandom; } >"$f"
	printf '%s\n' "$f"
}

# mk_items SHA: the rows and the stored files with that content.
mk_items() {
	psql_media "SELECT count(*) FROM media WHERE sha256 = '$1'"
}
mk_files() {
	find "$GH_STATE/media" -type f -not -path "$GH_STATE/media/tmp/*" \
	    -exec sha256sum {} + | awk -v s="$1" '$1 == s' | wc -l
}

# An upload with an Idempotency-Key, sent again (its answer lost), stores
# its file once and answers the first answer: ten retries, ten at once, a
# form of the same; another file or title under the key is 422; keys are
# each user's; an upload refused before or after its key was claimed
# leaves the key free.
t_82c_uploads_with_an_idempotency_key_store_once() {
	local f g sha key key1 id first i n ids pids hq kira
	media_setup || return
	f=$(mk_pdf idem)
	sha=$(sha_of "$f")
	key="u82c-$RANDOM$RANDOM"
	key1=$key
	upload "$f" application/pdf "title=Once&filename=once.pdf" "$MIA" -H "Idempotency-Key: $key"
	expect_status 201
	id=$MID
	first=$BODY
	expect_header location "/api/v1/media/$id"
	for i in $(seq 10); do
		upload "$f" application/pdf "title=Once&filename=once.pdf" "$MIA" -H "Idempotency-Key: $key"
		expect_status 201
		expect_header idempotent-replayed true
		expect_header location "/api/v1/media/$id"
		expect_header etag "\"$sha\""
		[ "$BODY" = "$first" ] || fail "retry $i answered another body"
	done
	# The same upload as a form: the same bytes and fields, the same answer.
	req POST /api/v1/media -H "Authorization: Bearer $MIA" -H "Idempotency-Key: $key" \
	    -F "file=@$f;type=application/pdf;filename=once.pdf" -F title=Once
	expect_status 201
	expect_header idempotent-replayed true
	expect_json .id "$id"
	[ "$(mk_items "$sha")" = 1 ] || fail "$(mk_items "$sha") items for one key"
	[ "$(mk_files "$sha")" = 1 ] || fail "$(mk_files "$sha") files on disk for one key"
	[ "$(tmp_files)" = 0 ] || fail "the retries left temporary files"
	# Another file, another title, another visibility under the key: 422,
	# and nothing stored.
	g=$(mk_pdf idem-other)
	upload "$g" application/pdf "title=Once&filename=once.pdf" "$MIA" -H "Idempotency-Key: $key"
	expect_problem 422
	expect_json '.detail | test("Idempotency-Key")' true
	upload "$f" application/pdf "title=Twice&filename=once.pdf" "$MIA" -H "Idempotency-Key: $key"
	expect_problem 422
	upload "$f" application/pdf "title=Once&filename=once.pdf&visibility=public" "$MIA" -H "Idempotency-Key: $key"
	expect_problem 422
	upload "$f" application/pdf "title=Once" "$MIA" -H "Idempotency-Key: $key"
	expect_problem 422
	[ "$(mk_items "$(sha_of "$g")")" = 0 ] || fail "a refused upload was stored"
	[ "$(mk_files "$(sha_of "$g")")" = 0 ] || fail "a refused upload left its file"
	[ "$(mk_items "$sha")" = 1 ] || fail "a refused upload stored the first file again"
	[ "$(tmp_files)" = 0 ] || fail "a refused upload left a temporary file"
	# Keys are each user's: noah's same key is his own upload.
	upload "$f" application/pdf "title=Once&filename=once.pdf" "$NOAH" -H "Idempotency-Key: $key"
	expect_status 201
	[ -z "$(header idempotent-replayed)" ] || fail "noah got mia's answer"
	[ "$MID" != "$id" ] || fail "noah got mia's item"
	# Ten at once under a new key: one item, one file; the others are the
	# first answer or 409 with Retry-After.
	g=$(mk_pdf idem-par)
	key="u82c-par-$RANDOM$RANDOM"
	pids=
	for i in $(seq 10); do
		gh_curl -sk -X POST -H "Authorization: Bearer $MIA" -H "Idempotency-Key: $key" \
		    -H 'Content-Type: application/pdf' --data-binary @"$g" \
		    -D "$T_OUT/upar$i.h" -o "$T_OUT/upar$i" -w '%{http_code}\n' \
		    "$(gh_url /api/v1/media?title=par)" >>"$T_OUT/upar.codes" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && wait $pids
	[ "$(grep -c '^201$' "$T_OUT/upar.codes")" -ge 1 ] || fail "no parallel upload passed"
	[ "$(grep -cv '^\(201\|409\)$' "$T_OUT/upar.codes")" = 0 ] ||
	    fail "parallel uploads: $(sort "$T_OUT/upar.codes" | uniq -c | tr '\n' ' ')"
	for i in $(seq 10); do
		if grep -q '^HTTP/[^ ]* 409' "$T_OUT/upar$i.h"; then
			grep -qi '^retry-after: [1-9]' "$T_OUT/upar$i.h" || fail "a 409 without Retry-After"
		fi
	done
	ids=$(for i in $(seq 10); do jq -r '.id // empty' "$T_OUT/upar$i"; done | sort -u)
	[ "$(printf '%s\n' "$ids" | wc -l)" = 1 ] || fail "parallel uploads made items: $ids"
	rm -f "$T_OUT"/upar*
	[ "$(mk_items "$(sha_of "$g")")" = 1 ] || fail "$(mk_items "$(sha_of "$g")") items from ten at once"
	[ "$(mk_files "$(sha_of "$g")")" = 1 ] || fail "$(mk_files "$(sha_of "$g")") files from ten at once"
	[ "$(tmp_files)" = 0 ] || fail "the parallel uploads left temporary files"
	# The item deleted, a late retry: the first answer still, nothing stored.
	req DELETE "/api/v1/media/$id" -H "Authorization: Bearer $MIA"
	expect_status 204
	upload "$f" application/pdf "title=Once&filename=once.pdf" "$MIA" -H "Idempotency-Key: $key1"
	expect_status 201
	expect_header idempotent-replayed true
	expect_json .id "$id"
	[ "$(psql_media "SELECT count(*) FROM media WHERE sha256 = '$sha' AND owner = '$MIA_ID'")" = 0 ] ||
	    fail "a late retry stored the deleted file again"
	# Refused before its key is claimed (not a PDF, a bad key) or after
	# (over the quota, found at the insert for a form): the key stays free.
	kira=
	media_user kira && kira=$AT
	key="u82c-free-$RANDOM$RANDOM"
	upload "$(mkfile elf)" application/pdf "" "$kira" -H "Idempotency-Key: $key"
	expect_problem 415
	for hq in "$(printf 'k%.0s' $(seq 256))" 'a key' 'é'; do
		upload "$f" application/pdf "" "$kira" -H "Idempotency-Key: $hq"
		expect_problem 400
		expect_json '.detail | test("Idempotency-Key")' true
	done
	upload "$f" application/pdf "" "$kira" -H 'Idempotency-Key;'
	expect_problem 400
	for i in 1 2 3; do
		upload "$(mk_pdf "kira$i" 1000000)" application/pdf "" "$kira"
		expect_status 201
	done
	n=$(stored_files)
	g=$(mk_pdf kira-over 200000)
	req POST /api/v1/media -H "Authorization: Bearer $kira" -H "Idempotency-Key: $key" \
	    -F "file=@$g;type=application/pdf"
	expect_problem 507
	[ "$(stored_files)" = "$n" ] || fail "an upload over the quota was kept"
	[ "$(psql_media "SELECT count(*) FROM media_upload_keys WHERE key = '$key'")" = 0 ] ||
	    fail "an upload refused after its claim kept its key"
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $kira"
	expect_status 204
	req POST /api/v1/media -H "Authorization: Bearer $kira" -H "Idempotency-Key: $key" \
	    -F "file=@$g;type=application/pdf"
	expect_status 201
	[ -z "$(header idempotent-replayed)" ] || fail "a refused upload used its key up"
	# An account's media go with the answers its keys remember.
	media_grant "$kira"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $kira" \
	    -H "Gatehouse-Grant: $GRANT"
	expect_status 200
	[ "$(psql_media "SELECT count(*) FROM media_upload_keys k WHERE k.key = '$key'")" = 0 ] ||
	    fail "the account's keys outlived its media"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
}

t_83_quota_is_507_with_a_clear_detail() {
	local f i before
	media_setup || return
	media_user mquota
	f="$T_MEDIA_DIR/quarter.pdf"
	{ printf '%%PDF-1.4\n'; head -c 1000000 /dev/zero; } >"$f"
	for i in 1 2 3; do
		upload "$f" application/pdf "" "$AT"
		expect_status 201
	done
	before=$(stored_files)
	upload "$f" application/pdf "" "$AT"
	expect_problem 507
	expect_json '.detail | test("quota")' true
	expect_json .quota_bytes "$MEDIA_QUOTA"
	expect_json .used_bytes 3000027
	[ "$(stored_files)" = "$before" ] || fail "a file over the quota was kept"
	# Another user's quota is their own.
	upload "$(mkfile png)" image/png "" "$NOAH"
	expect_status 201
}

t_84_access_list_and_pages() {
	local priv pub ids i
	media_setup || return
	upload "$(mkfile pdf)" application/pdf	# so that there are pages
	upload "$(mkfile png)" image/png "title=private"
	priv=$MID
	upload "$(mkfile gif)" image/gif "title=public&visibility=public"
	pub=$MID
	req GET "/api/v1/media/$priv" -H "Authorization: Bearer $NOAH"
	expect_problem 404
	download "/api/v1/media/$priv/file" "$NOAH"
	[ "$STATUS" = 404 ] || fail "another user's private file: $STATUS"
	req GET "/api/v1/media/$pub" -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json .title public
	req GET "/api/v1/media/$priv" -H "Authorization: Bearer $MIA"
	expect_status 200
	req GET "/api/v1/media/$priv"
	expect_problem 401
	req GET /api/v1/media/not-a-uuid -H "Authorization: Bearer $MIA"
	expect_problem 404
	# noah's list has the public item and none of mia's private ones.
	req GET "/api/v1/media?limit=100&owner=$MIA_ID" -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json "[.data[].id] | index(\"$pub\") != null" true
	expect_json '[.data[] | select(.visibility == "private")] | length' 0
	# Pages of two, newest first, until has_more is false.
	ids=
	req GET "/api/v1/media?limit=2&owner=me" -H "Authorization: Bearer $MIA"
	expect_json '.data | length' 2
	expect_json .has_more true
	expect_json '.data[0].id' "$pub"
	for i in $(seq 20); do
		ids="$ids $(printf '%s' "$BODY" | jq -r '.data[].id' | tr '\n' ' ')"
		[ "$(printf '%s' "$BODY" | jq -r .has_more)" = true ] || break
		req GET "/api/v1/media?limit=2&owner=me&starting_after=$(printf '%s' "$BODY" | jq -r '.data[-1].id')" \
		    -H "Authorization: Bearer $MIA"
		expect_status 200
	done
	req GET "/api/v1/media?limit=100&owner=me" -H "Authorization: Bearer $MIA"
	[ "$(printf '%s' "$ids" | wc -w)" = "$(printf '%s' "$BODY" | jq '.data | length')" ] ||
	    fail "pages gave $(printf '%s' "$ids" | wc -w) items, one page $(printf '%s' "$BODY" | jq '.data | length')"
	[ "$(printf '%s\n' $ids | sort -u | wc -l)" = "$(printf '%s' "$ids" | wc -w)" ] ||
	    fail "an item came twice"
	req GET "/api/v1/media?type=image/gif&owner=me" -H "Authorization: Bearer $MIA"
	expect_json '[.data[].type] | unique | join(",")' image/gif
	req GET "/api/v1/media?limit=0" -H "Authorization: Bearer $MIA"
	expect_problem 400
	req GET "/api/v1/media?starting_after=x" -H "Authorization: Bearer $MIA"
	expect_problem 400
}

# Bad query parameters are 400, each named with where it was, all at once.
t_84b_bad_parameters_named_at_once() {
	media_setup || return
	req GET "/api/v1/media?limit=abc&owner=someone" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors | length' 2
	expect_json '[.errors[].field] | sort | join(",")' limit,owner
	expect_json '[.errors[].in] | unique | join(",")' query
	req GET "/api/v1/media?limit=101&type=IMAGE&starting_after=x" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '[.errors[].field] | sort | join(",")' limit,starting_after,type
	# Given twice, or badly encoded, is malformed too.
	req GET "/api/v1/media?limit=2&limit=3" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors[0].field' limit
	req GET "/api/v1/media?owner=%zz" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors[0].field' owner
	# A cursor of the right form, but not of a list: 400 naming it.
	req GET "/api/v1/media?cursor=$(printf 'x\ny' | b64url)" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors[0].field' cursor
	req GET "/api/v1/media/stats?scope=everyone&days=0" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '[.errors[].field] | sort | join(",")' days,scope
	req GET "/api/v1/media/tags?limit=0&owner=x&prefix=a%2Fb" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors | length' 3
	req GET "/api/v1/media/comments?user=x&limit=0" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors | length' 2
	req GET "/api/v1/media/most-liked?limit=-1" -H "Authorization: Bearer $MIA"
	expect_problem 400
	expect_json '.errors[0].field' limit
	# A download's exp is a number.
	download "/api/v1/media/00000000-0000-4000-8000-000000000000/file?exp=soon&sig=x"
	[ "$STATUS" = 400 ] || fail "exp=soon: $STATUS"
	# Undeclared parameters are ignored.
	req GET "/api/v1/media?limit=1&utm_source=x" -H "Authorization: Bearer $MIA"
	expect_status 200
}

# ids_of_pages PATH TOKEN: every id of PATH's pages of two, by next_cursor.
ids_of_pages() {
	local cursor= i sep
	IDS=
	case $1 in *\?*) sep='&' ;; *) sep='?' ;; esac
	for i in $(seq 30); do
		req GET "$1${sep}limit=2${cursor:+&cursor=$cursor}" -H "Authorization: Bearer $2"
		expect_status 200
		IDS="$IDS $(printf '%s' "$BODY" | jq -r '.data[].id' | tr '\n' ' ')"
		cursor=$(printf '%s' "$BODY" | jq -r '.next_cursor // empty')
		[ "$(printf '%s' "$BODY" | jq -r .has_more)" = true ] || break
		[ -n "$cursor" ] || { fail "has_more without next_cursor"; break; }
	done
	IDS=$(echo $IDS)
}

# A cursor is a position: the item it came from may turn private or go,
# and the next page still starts after it.
t_84c_cursor_survives_hidden_and_deleted_items() {
	local owner owner_id noah_id i ids= cursor page1 c1 c2 c3 c4 cur
	media_setup || return
	media_user mcursor && owner=$AT owner_id=$UID_
	for i in 1 2 3 4 5; do
		upload "$(mkfile pdf)" application/pdf "title=c$i&visibility=public" "$owner"
		expect_status 201
		ids="$MID $ids"			# newest first
	done
	set -- $ids				# $1 is the newest
	ids_of_pages "/api/v1/media?owner=$owner_id" "$NOAH"
	[ "$IDS" = "$*" ] || fail "pages: $IDS, wanted $*"
	# The boundary of the first page turns private (as its owner); noah,
	# listing, goes on after it.
	req GET "/api/v1/media?owner=$owner_id&limit=2" -H "Authorization: Bearer $NOAH"
	expect_json '[.data[].id] | join(" ")' "$1 $2"
	expect_json .has_more true
	page1=$(printf '%s' "$BODY" | jq -r .next_cursor)
	[ -n "$page1" ] && [ "$page1" != null ] || fail "no next_cursor"
	req PATCH "/api/v1/media/$2" -H "Authorization: Bearer $owner" \
	    -H 'Content-Type: application/json' --data-raw '{"visibility":"private"}'
	expect_status 200
	req GET "/api/v1/media?owner=$owner_id&limit=2&cursor=$page1" -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json '[.data[].id] | join(" ")' "$3 $4"
	expect_json .has_more true
	cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)
	# The old starting_after cannot start after an item noah may not see.
	req GET "/api/v1/media?owner=$owner_id&limit=2&starting_after=$2" -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json '.data | length' 0
	# The boundary of the second page is deleted: the third page is whole.
	req DELETE "/api/v1/media/$4" -H "Authorization: Bearer $owner"
	expect_status 204
	req GET "/api/v1/media?owner=$owner_id&limit=2&cursor=$cursor" -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json '[.data[].id] | join(" ")' "$5"
	expect_json .has_more false
	expect_json .next_cursor null
	# The same cursor twice gives the same page; with starting_after, 400.
	req GET "/api/v1/media?owner=$owner_id&limit=2&cursor=$page1" -H "Authorization: Bearer $NOAH"
	expect_json '[.data[].id] | join(" ")' "$3 $5"
	req GET "/api/v1/media?limit=2&cursor=$page1&starting_after=$1" -H "Authorization: Bearer $NOAH"
	expect_problem 400
	expect_json '.errors[0].field' starting_after

	# An item's comments, oldest first: the boundary comment is deleted.
	for i in 1 2 3 4; do
		json_post "/api/v1/media/$1/comments" "{\"body\":\"c$i\"}" -H "Authorization: Bearer $NOAH"
		expect_status 201
		eval "c$i=\$(printf '%s' \"\$BODY\" | jq -r .id)"
	done
	req GET "/api/v1/media/$1/comments?limit=2" -H "Authorization: Bearer $owner"
	expect_json '[.data[].id] | join(" ")' "$c1 $c2"
	expect_json .count 4
	cur=$(printf '%s' "$BODY" | jq -r .next_cursor)
	req DELETE "/api/v1/media/$1/comments/$c2" -H "Authorization: Bearer $NOAH"
	expect_status 204
	req GET "/api/v1/media/$1/comments?limit=2&cursor=$cur" -H "Authorization: Bearer $owner"
	expect_json '[.data[].id] | join(" ")' "$c3 $c4"
	expect_json .has_more false
	expect_json .count 3
	# noah's comments, newest first, as mia sees them: the item of the
	# boundary comment turns private, and the next page goes on after it.
	noah_id=$(part 2 "$NOAH" | jq -r .sub)
	json_post "/api/v1/media/$3/comments" '{"body":"on 3"}' -H "Authorization: Bearer $NOAH"
	c1=$(printf '%s' "$BODY" | jq -r .id)
	json_post "/api/v1/media/$5/comments" '{"body":"on 5"}' -H "Authorization: Bearer $NOAH"
	c2=$(printf '%s' "$BODY" | jq -r .id)
	req GET "/api/v1/media/comments?user=$noah_id&limit=2" -H "Authorization: Bearer $MIA"
	expect_json '[.data[].id] | join(" ")' "$c2 $c1"
	cur=$(printf '%s' "$BODY" | jq -r .next_cursor)
	req PATCH "/api/v1/media/$3" -H "Authorization: Bearer $owner" \
	    -H 'Content-Type: application/json' --data-raw '{"visibility":"private"}'
	req GET "/api/v1/media/comments?user=$noah_id&limit=2&cursor=$cur" -H "Authorization: Bearer $MIA"
	expect_status 200
	expect_json '[.data[].id] | join(" ")' "$c4 $c3"
}

t_85_download_through_nginx() {
	local f sha etag
	media_setup || return
	f=$(mkfile pdf)
	sha=$(sha_of "$f")
	upload "$f" application/pdf "filename=report.pdf"
	download "/api/v1/media/$MID/file" "$MIA"
	[ "$STATUS" = 200 ] || fail "download: $STATUS"
	[ "$(sha_of "$T_OUT/dl")" = "$sha" ] || fail "downloaded bytes differ"
	expect_header content-type application/pdf
	expect_header content-disposition "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
	expect_header x-content-type-options nosniff
	expect_header etag "\"$sha\""
	expect_header repr-digest
	expect_header accept-ranges bytes
	header content-security-policy | grep -q sandbox || fail "no sandbox CSP"
	[ -z "$(header x-accel-redirect)" ] || fail "X-Accel-Redirect leaked"
	etag=$(header etag)
	download "/api/v1/media/$MID/file" "$MIA" -H 'Range: bytes=0-3'
	[ "$STATUS" = 206 ] || fail "range: $STATUS"
	[ "$(cat "$T_OUT/dl")" = "%PDF" ] || fail "range body '$(cat "$T_OUT/dl")'"
	expect_header content-range "bytes 0-3/$(stat -c %s "$f")"
	download "/api/v1/media/$MID/file" "$MIA" -H "If-None-Match: $etag"
	[ "$STATUS" = 304 ] || fail "If-None-Match: $STATUS"
	expect_header etag "$etag"
	download "/api/v1/media/$MID/file" "$MIA" -H 'If-None-Match: "other"'
	[ "$STATUS" = 200 ] || fail "If-None-Match of another tag: $STATUS"
	download "/api/v1/media/$MID/file" "$MIA" -H "If-Range: $etag" -H 'Range: bytes=1-2'
	[ "$STATUS" = 206 ] || fail "If-Range with the tag: $STATUS"
	download "/api/v1/media/$MID/file?download=1" "$MIA"
	header content-disposition | grep -q '^attachment;' || fail "download=1 is not an attachment"
	download "/api/v1/media/$MID/file"
	[ "$STATUS" = 401 ] || fail "no token: $STATUS"
	# The internal location is not reachable from outside.
	download "/_media/tmp/" "$MIA"
	[ "$STATUS" = 404 ] || fail "/_media/ from outside: $STATUS"
}

# sign ID EXP: a link signature made with the workers' key.
sign() {
	printf '%s.%s' "$1" "$2" | openssl dgst -sha256 -mac HMAC \
	    -macopt "key:$(cat "$GH_STATE/secrets/media-link.key")" -binary | b64url
}

t_86_signed_links() {
	local f sha url exp sig past bad
	media_setup || return
	f=$(mkfile jpg)
	sha=$(sha_of "$f")
	upload "$f" image/jpeg
	req POST "/api/v1/media/$MID/links" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' --data-raw '{"expires_in":600}'
	expect_status 201
	expect_json .expires_in 600
	url=$(printf '%s' "$BODY" | jq -r .url)
	download "$url"
	[ "$STATUS" = 200 ] || fail "signed link: $STATUS"
	[ "$(sha_of "$T_OUT/dl")" = "$sha" ] || fail "bytes differ through the link"
	exp=${url#*exp=}; exp=${exp%%&*}
	sig=${url#*sig=}
	[ "$(sign "$MID" "$exp")" = "$sig" ] || fail "signature is not HMAC-SHA256(id.exp)"
	# Tampered: another signature, another expiry, another item.
	if [ "${sig: -1}" = A ]; then bad="${sig%?}B"; else bad="${sig%?}A"; fi
	download "/api/v1/media/$MID/file?exp=$exp&sig=$bad"
	[ "$STATUS" = 403 ] || fail "tampered sig: $STATUS"
	download "/api/v1/media/$MID/file?exp=$((exp + 1000))&sig=$sig"
	[ "$STATUS" = 403 ] || fail "tampered exp: $STATUS"
	upload "$(mkfile png)" image/png
	download "/api/v1/media/$MID/file?exp=$exp&sig=$sig"
	[ "$STATUS" = 403 ] || fail "link used for another item: $STATUS"
	download "/api/v1/media/$MID/file?exp=$exp"
	[ "$STATUS" = 403 ] || fail "no sig: $STATUS"
	# Expired, though well signed.
	past=$(( $(date +%s) - 10 ))
	download "/api/v1/media/$MID/file?exp=$past&sig=$(sign "$MID" "$past")"
	[ "$STATUS" = 403 ] || fail "expired link: $STATUS"
	printf '%s' "$BODY" | grep -q expired || fail "expired link detail: $BODY"
	# Only the owner shares; limits on expires_in.
	req POST "/api/v1/media/$MID/links" -H "Authorization: Bearer $NOAH"
	expect_problem 404
	req POST "/api/v1/media/$MID/links" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' --data-raw '{"expires_in":5}'
	expect_problem 422
	req POST "/api/v1/media/$MID/links" -H "Authorization: Bearer $MIA"
	expect_status 201
	expect_json .expires_in 3600
}

# forge_token SUB ROLE AUD EXP_OFFSET [SID]: a token signed with the real
# key (as t_56 does), for AUD, expiring EXP_OFFSET seconds from now.
forge_token() {
	local kid now
	kid=$(part 1 "$MIA" | jq -r .kid)
	now=$(date +%s)
	"$FORGE" es256 "$GH_STATE/keys/$kid.pem" \
	    "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"$kid\"}" \
	    "{\"iss\":\"gatehouse\",\"aud\":\"$3\",\"sub\":\"$1\",${5:+\"sid\":\"$5\",}\"jti\":\"f$RANDOM$RANDOM$RANDOM\",\"role\":\"$2\",\"iat\":$((now - 60)),\"exp\":$((now + $4))}"
}

# An admin token (of no account).
admin_token() {
	forge_token 00000000-0000-4000-8000-000000000001 admin gatehouse-api 600
}

t_87_update_and_delete() {
	local pub path adm f
	media_setup || return
	f="$T_MEDIA_DIR/unique.png"
	{ cat "$(mkfile png)"; printf 'trailer %s' "$(date +%s%N)"; } >"$f"
	upload "$f" image/png "visibility=public"
	pub=$MID
	req PATCH "/api/v1/media/$pub" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' \
	    --data-raw '{"title":"Sunset","description":"line one\nline two","visibility":"private"}'
	expect_status 200
	expect_json .title Sunset
	expect_json .visibility private
	req PATCH "/api/v1/media/$pub" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' --data-raw '{"visibility":"public"}'
	expect_json .title Sunset
	expect_json .visibility public
	req PATCH "/api/v1/media/$pub" -H "Authorization: Bearer $NOAH" \
	    -H 'Content-Type: application/json' --data-raw '{"title":"mine now"}'
	expect_problem 403
	req PATCH "/api/v1/media/$pub" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' --data-raw '{"visibility":"everyone"}'
	expect_problem 422
	req PATCH "/api/v1/media/$pub" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' --data-raw '{}'
	expect_problem 422
	adm=$(admin_token)
	req PATCH "/api/v1/media/$pub" -H "Authorization: Bearer $adm" \
	    -H 'Content-Type: application/json' --data-raw '{"title":"moderated"}'
	expect_status 200
	expect_json .title moderated
	req DELETE "/api/v1/media/$pub" -H "Authorization: Bearer $NOAH"
	expect_problem 403
	path=$(stored_path "$(sha_of "$f")")
	[ -n "$path" ] || fail "no stored file found"
	req DELETE "/api/v1/media/$pub" -H "Authorization: Bearer $MIA"
	expect_status 204
	[ ! -e "$path" ] || fail "the file outlived its row"
	req GET "/api/v1/media/$pub" -H "Authorization: Bearer $MIA"
	expect_problem 404
	download "/api/v1/media/$pub/file" "$MIA"
	[ "$STATUS" = 404 ] || fail "download after delete: $STATUS"
	req DELETE "/api/v1/media/$pub" -H "Authorization: Bearer $MIA"
	expect_problem 404
	# An admin deletes anyone's.
	upload "$(mkfile gif)" image/gif
	req DELETE "/api/v1/media/$MID" -H "Authorization: Bearer $adm"
	expect_status 204
}

t_88_hostile_names_stored_safely() {
	local before
	media_setup || return
	before=$(stored_files)
	upload "$(mkfile png)" image/png \
	    "title=..%2F..%2F..%2Fetc%2Fpasswd&filename=..%2F..%2F..%2Fetc%2Fpasswd.png"
	expect_status 201
	expect_json .title ../../../etc/passwd
	expect_json .filename passwd.png
	# The file, and its thumbnail when one was made.
	[ "$(stored_files)" = $((before + 1 + $(printf '%s' "$BODY" |
	    jq '.thumbnail // null | if . == null then 0 else 1 end'))) ] ||
	    fail "not one new stored file (and its thumbnail)"
	[ -z "$(find "$GH_STATE" -name 'passwd*' -print -quit)" ] ||
	    fail "a client's name became a path"
	# Quotes, semicolons and non-ASCII cannot break the header; a
	# backslash is a Windows folder separator like the slash.
	upload "$(mkfile png)" image/png \
	    "filename=C%3A%5Cpics%5Ca%22%3B%20x%3Dy%E2%82%AC.png"
	expect_status 201
	expect_json .filename 'a"; x=y€.png'
	download "/api/v1/media/$MID/file" "$MIA"
	expect_header content-disposition \
	    "inline; filename=\"a__ x=y___.png\"; filename*=UTF-8''a%22%3B%20x%3Dy%E2%82%AC.png"
	upload "$(mkfile png)" image/png "filename=a%0D%0ASet-Cookie:x.png"
	expect_problem 422
	# U+202E (right-to-left override): "photo<RLO>gnp.exe" shows as
	# "photoexe.png".
	upload "$(mkfile png)" image/png "filename=photo%E2%80%AEgnp.exe"
	expect_problem 422
	expect_json '.errors[0].field' filename
	expect_json '.detail | test("bidirectional")' true
	upload "$(mkfile png)" image/png "title=%FF%FE"
	expect_problem 422
	upload "$(mkfile png)" image/png "visibility=friends"
	expect_problem 422
	upload "$(mkfile png)" image/png "" "not-a-token"
	expect_problem 401
}

# media_form_raw NAME-BYTES: a form whose file part's Content-Disposition
# carries NAME-BYTES (printf escapes) as they are, e.g. filename="a\0.png".
media_form_raw() {
	local f="$T_MEDIA_DIR/raw-form"
	{
		printf -- '--mfr0\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
		printf -- '--mfr0\r\nContent-Disposition: form-data; name="file"; '
		printf -- "$1"
		printf -- '\r\nContent-Type: image/png\r\n\r\n'
		cat "$(mkfile png)"
		printf -- '\r\n--mfr0--\r\n'
	} >"$f"
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: multipart/form-data; boundary=mfr0' --data-binary @"$f"
}

# A NUL or another control character in a file name is refused with 422
# naming the field, in a form and in a raw upload's query, and nothing
# is stored: a name cut short at its NUL ("a\0.exe" kept as "a") or
# split at a line end is another name than the one sent.
t_88b_nul_and_controls_in_file_names_are_422() {
	local before rows name
	media_setup || return
	before=$(stored_files)
	rows=$(psql_media "SELECT count(*) FROM media")
	for name in 'filename="a\0.png"' 'filename="a\0"' 'filename="\0.png"' \
	    'filename="a\001.png"' 'filename="a\033[31m.png"' \
	    'filename="a\177.png"' 'filename="a\r.png"' 'filename="a\t.png"' \
	    'filename="a\302\205.png"' \
	    "filename*=UTF-8''a%%00.png" "filename*=UTF-8''a%%0A.png" \
	    "filename*=UTF-8''a%%7F.png" 'filename="ok.png"; filename*=UTF-8'"''"'a\0.png'; do
		media_form_raw "$name"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' filename
		expect_json '.detail | test("control")' true
	done
	for name in a%00.png %00.png a%00 a%01.png a%1B%5B31m.png a%7F.png \
	    a%0D.png a%09.png a%C2%85.png; do
		upload "$(mkfile png)" image/png "title=t&filename=$name"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' filename
	done
	# Every bad field at once: the title's too.
	upload "$(mkfile png)" image/png "title=a%01&filename=a%00.png"
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' filename,title
	# A NUL in the part's own name is a broken form (400), not a field.
	media_form_raw 'filename="ok.png"\r\nX-Other: a\0b'
	expect_problem 400
	[ "$(stored_files)" = "$before" ] || fail "a refused name left a file"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
	[ "$(psql_media "SELECT count(*) FROM media")" = "$rows" ] ||
	    fail "a refused name left a row"
	# The same forms with a clean name are taken: only the name was wrong.
	media_form_raw 'filename="a.png"'
	expect_status 201
	expect_json .filename a.png
	req DELETE "/api/v1/media/$(printf '%s' "$BODY" | jq -r .id)" \
	    -H "Authorization: Bearer $MIA"
	expect_status 204
}

t_89_multipart_form_upload() {
	local f sha before
	media_setup || return
	f=$(mkfile png)
	sha=$(sha_of "$f")
	# Fields before and after the file, as a browser form may send them.
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -F 'title=From a form' -F "file=@$f;type=image/png;filename=C:\\pics\\holiday.png" \
	    -F $'description=two\nlines' -F visibility=public
	expect_status 201
	expect_json .title 'From a form'
	expect_json .description $'two\nlines'
	MID=$(printf '%s' "$BODY" | jq -r .id)
	expect_json .visibility public
	expect_json .filename holiday.png
	expect_json .sha256 "$sha"
	expect_json '"\(.width)x\(.height)"' 3x2
	expect_header etag "\"$sha\""
	download "/api/v1/media/$MID/file" "$MIA"
	[ "$(sha_of "$T_OUT/dl")" = "$sha" ] || fail "form upload bytes differ"
	# A bigger file, so that the boundary search crosses reads.
	{ cat "$f"; head -c 300000 /dev/urandom; } >"$T_MEDIA_DIR/form-big.png"
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -F "file=@$T_MEDIA_DIR/form-big.png;type=application/octet-stream"
	expect_status 201
	expect_json .sha256 "$(sha_of "$T_MEDIA_DIR/form-big.png")"
	expect_json .size "$(stat -c %s "$T_MEDIA_DIR/form-big.png")"
	before=$(stored_files)
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -F "file=@$(mkfile elf);type=image/png;filename=cat.png"
	expect_problem 415
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -F "file=@$f;type=image/png;filename=cat.gif"
	expect_problem 415
	req POST /api/v1/media -H "Authorization: Bearer $MIA" -F title=alone
	expect_problem 422
	expect_json '.errors[0].field' file
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -F "file=@$f;type=image/png" -F owner=someone-else
	expect_problem 422
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -F "file=@$f;type=image/png" -F visibility=friends
	expect_problem 422
	req POST /api/v1/media -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: multipart/form-data; boundary=xyz' --data-binary 'no parts here'
	expect_problem 400
	[ "$(stored_files)" = "$before" ] || fail "a refused form left a file"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
}

t_89b_stats() {
	local adm
	media_setup || return
	media_user mstats
	upload "$(mkfile png)" image/png "" "$AT"
	upload "$(mkfile png)" image/png "" "$AT"
	upload "$(mkfile pdf)" application/pdf "" "$AT"
	req GET /api/v1/media/stats -H "Authorization: Bearer $AT"
	expect_status 200
	expect_json .scope me
	expect_json .total.count 3
	expect_json .total.bytes $(( 2 * $(stat -c %s "$(mkfile png)") + $(stat -c %s "$(mkfile pdf)") ))
	expect_json '.by_type[] | select(.type == "image/png") | .count' 2
	expect_json '.by_day | length' 1
	expect_json ".by_day[0].day" "$(date -u +%F)"
	expect_json .by_day[0].count 3
	expect_json .by_user null
	req GET '/api/v1/media/stats?scope=all' -H "Authorization: Bearer $AT"
	expect_problem 403
	req GET '/api/v1/media/stats?days=0' -H "Authorization: Bearer $AT"
	expect_problem 400
	adm=$(admin_token)
	req GET '/api/v1/media/stats?scope=all' -H "Authorization: Bearer $adm"
	expect_status 200
	expect_json '.by_user | length > 1' true
	expect_json "[.by_user[].count] | add" "$(printf '%s' "$BODY" | jq .total.count)"
	# A new user's stats are zeros and empty lists, not a 404.
	media_user mstats2
	req GET /api/v1/media/stats -H "Authorization: Bearer $AT"
	expect_status 200
	expect_json .total.count 0
	expect_json '.by_type | length' 0
}

t_89c_likes_and_ratings() {
	local pub priv
	media_setup || return
	upload "$(mkfile png)" image/png "visibility=public"
	pub=$MID
	upload "$(mkfile gif)" image/gif
	priv=$MID
	req POST "/api/v1/media/$pub/likes" -H "Authorization: Bearer $MIA"
	expect_status 201
	expect_json .count 1
	expect_json .liked_by_me true
	req POST "/api/v1/media/$pub/likes" -H "Authorization: Bearer $MIA"
	expect_problem 409
	req POST "/api/v1/media/$pub/likes" -H "Authorization: Bearer $NOAH"
	expect_json .count 2
	req POST "/api/v1/media/$priv/likes" -H "Authorization: Bearer $NOAH"
	expect_problem 404
	req DELETE "/api/v1/media/$pub/likes" -H "Authorization: Bearer $NOAH"
	expect_status 204
	req DELETE "/api/v1/media/$pub/likes" -H "Authorization: Bearer $NOAH"
	expect_problem 404
	req GET "/api/v1/media/$pub/likes" -H "Authorization: Bearer $NOAH"
	expect_json .count 1
	expect_json .liked_by_me false
	req GET /api/v1/media/most-liked -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json '[.data[] | select(.id == "'"$pub"'") | .like_count][0]' 1
	expect_json '[.data[] | select(.visibility == "private")] | length' 0

	req GET "/api/v1/media/$pub/rating" -H "Authorization: Bearer $NOAH"
	expect_json .count 0
	expect_json .average null
	json_post "/api/v1/media/$pub/rating" '{"stars":4}' -X PUT -H "Authorization: Bearer $MIA"
	expect_status 200
	expect_json .average 4
	expect_json .mine 4
	# A second rating replaces the first.
	json_post "/api/v1/media/$pub/rating" '{"stars":2}' -X PUT -H "Authorization: Bearer $MIA"
	expect_json .count 1
	expect_json .average 2
	json_post "/api/v1/media/$pub/rating" '{"stars":5}' -X PUT -H "Authorization: Bearer $NOAH"
	expect_json .count 2
	expect_json .average 3.5
	expect_json .mine 5
	json_post "/api/v1/media/$pub/rating" '{"stars":6}' -X PUT -H "Authorization: Bearer $NOAH"
	expect_problem 422
	json_post "/api/v1/media/$priv/rating" '{"stars":3}' -X PUT -H "Authorization: Bearer $NOAH"
	expect_problem 404
	req DELETE "/api/v1/media/$pub/rating" -H "Authorization: Bearer $NOAH"
	expect_status 204
	req GET "/api/v1/media/$pub/rating" -H "Authorization: Bearer $NOAH"
	expect_json .count 1
	expect_json .mine null
	# Deleting the item takes its likes and ratings in the same transaction.
	req DELETE "/api/v1/media/$pub" -H "Authorization: Bearer $MIA"
	expect_status 204
	[ "$(gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_media -tAc "SELECT (SELECT count(*) FROM media_likes WHERE media_id = '$pub') + (SELECT count(*) FROM media_ratings WHERE media_id = '$pub')")" = 0 ] ||
	    fail "likes or ratings outlived their item"
}

t_89d_comments() {
	local pub priv c1 c2 adm
	media_setup || return
	upload "$(mkfile png)" image/png "visibility=public"
	pub=$MID
	upload "$(mkfile gif)" image/gif
	priv=$MID
	req GET "/api/v1/media/$pub/comments" -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json '.data | length' 0
	expect_json .count 0
	json_post "/api/v1/media/$pub/comments" '{"body":"Lovely <b>light</b>"}' -H "Authorization: Bearer $NOAH"
	expect_status 201
	expect_json .body 'Lovely <b>light</b>'
	c1=$(printf '%s' "$BODY" | jq -r .id)
	json_post "/api/v1/media/$pub/comments" '{"body":"Thanks"}' -H "Authorization: Bearer $MIA"
	c2=$(printf '%s' "$BODY" | jq -r .id)
	json_post "/api/v1/media/$pub/comments" '{"body":""}' -H "Authorization: Bearer $MIA"
	expect_problem 422
	json_post "/api/v1/media/$priv/comments" '{"body":"hi"}' -H "Authorization: Bearer $NOAH"
	expect_problem 404
	req GET "/api/v1/media/$pub/comments?limit=1" -H "Authorization: Bearer $NOAH"
	expect_json '.data[0].id' "$c1"
	expect_json .has_more true
	expect_json .count 2
	req GET "/api/v1/media/$pub/comments?limit=1&starting_after=$c1" -H "Authorization: Bearer $NOAH"
	expect_json '.data[0].id' "$c2"
	expect_json .has_more false
	req GET /api/v1/media/comments -H "Authorization: Bearer $NOAH"
	expect_json '[.data[].id] | index("'"$c1"'") != null' true
	# Only the author edits; an admin may delete any.
	json_post "/api/v1/media/$pub/comments/$c1" '{"body":"mine now"}' -X PATCH -H "Authorization: Bearer $MIA"
	expect_problem 403
	json_post "/api/v1/media/$pub/comments/$c1" '{"body":"Lovely light"}' -X PATCH -H "Authorization: Bearer $NOAH"
	expect_status 200
	expect_json .body 'Lovely light'
	req DELETE "/api/v1/media/$pub/comments/$c2" -H "Authorization: Bearer $NOAH"
	expect_problem 403
	adm=$(admin_token)
	req DELETE "/api/v1/media/$pub/comments/$c2" -H "Authorization: Bearer $adm"
	expect_status 204
	req DELETE "/api/v1/media/$pub/comments/$c2" -H "Authorization: Bearer $MIA"
	expect_problem 404
	req DELETE "/api/v1/media/$pub" -H "Authorization: Bearer $MIA"
	expect_status 204
	[ "$(gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_media -tAc "SELECT count(*) FROM media_comments WHERE media_id = '$pub'")" = 0 ] ||
	    fail "comments outlived their item"
}
