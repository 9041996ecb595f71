# shellcheck shell=bash
# Media thumbnails: made from real images (drawn here with the vips
# command), served by nginx after the same access check as the file, and
# refused images over the pixel limit, with nothing left on disk.
# Uses media_setup, upload, download and friends from t_media.sh.

# draw NAME.EXT WIDTH HEIGHT: a grey gradient in the format of EXT.
draw() {
	local f="$T_MEDIA_DIR/$1"
	vips xyz "$T_MEDIA_DIR/xyz.v" "$2" "$3" &&
	    vips extract_band "$T_MEDIA_DIR/xyz.v" "$T_MEDIA_DIR/band.v" 0 &&
	    vips cast "$T_MEDIA_DIR/band.v" "$f" uchar || fail "vips could not draw $1"
	rm -f "$T_MEDIA_DIR/xyz.v" "$T_MEDIA_DIR/band.v"
	printf '%s\n' "$f"
}

t_89zt_thumbnails_of_each_image_type() {
	local ext type f
	media_setup || return
	while read -r ext type; do
		f=$(draw "wide.$ext" 640 480)
		upload "$f" "$type"
		expect_status 201
		expect_json '"\(.width)x\(.height)"' 640x480
		expect_json .thumbnail.url "/api/v1/media/$MID/thumbnail"
		expect_json '"\(.thumbnail.width)x\(.thumbnail.height)"' 320x240
		download "/api/v1/media/$MID/thumbnail" "$MIA"
		expect_status 200
		expect_header content-type image/webp
		expect_header x-content-type-options nosniff
		[ "$(head -c 4 "$T_OUT/dl")" = RIFF ] &&
		    [ "$(dd if="$T_OUT/dl" bs=1 skip=8 count=4 2>/dev/null)" = WEBP ] ||
		    fail "$ext: the thumbnail is not a WebP"
		[ -z "$(header x-accel-redirect)" ] || fail "X-Accel-Redirect leaked"
	done <<-EOF
	png image/png
	jpg image/jpeg
	gif image/gif
	webp image/webp
	EOF
	# Tall, and small: never enlarged.
	upload "$(draw tall.png 300 900)" image/png
	expect_json '"\(.thumbnail.width)x\(.thumbnail.height)"' 107x320
	upload "$(draw small.png 40 30)" image/png
	expect_json '"\(.thumbnail.width)x\(.thumbnail.height)"' 40x30
	# Not an image: no thumbnail, and the route says so.
	upload "$(mkfile pdf)" application/pdf
	expect_status 201
	expect_json .thumbnail null
	req GET "/api/v1/media/$MID/thumbnail" -H "Authorization: Bearer $MIA"
	expect_problem 404
}

# A frame of a video, drawn by ffmpeg's test source.
t_89zt_thumbnails_of_videos_too() {
	local f
	media_setup || return
	f="$T_MEDIA_DIR/clip.mp4"
	ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi \
	    -i testsrc=size=640x360:rate=10:duration=2 -pix_fmt yuv420p \
	    -c:v libx264 "$f" || fail "ffmpeg could not make an MP4"
	upload "$f" video/mp4
	expect_status 201
	expect_json .type video/mp4
	expect_json '"\(.thumbnail.width)x\(.thumbnail.height)"' 320x180
	download "/api/v1/media/$MID/thumbnail" "$MIA"
	expect_status 200
	expect_header content-type image/webp
	f="$T_MEDIA_DIR/clip.webm"
	ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi \
	    -i testsrc=size=320x240:rate=10:duration=1 -c:v libvpx "$f" ||
	    fail "ffmpeg could not make a WebM"
	upload "$f" video/webm
	expect_status 201
	expect_json '"\(.thumbnail.width)x\(.thumbnail.height)"' 320x240
	# Sound only: no frame, no thumbnail, and the upload stands.
	upload "$(mkfile m4a)" audio/mp4
	expect_status 201
	expect_json .thumbnail null
}

t_89zu_thumbnail_access_and_caching() {
	local etag id
	media_setup || return
	upload "$(draw acc.png 200 100)" image/png
	id=$MID
	download "/api/v1/media/$id/thumbnail" "$MIA"
	expect_status 200
	etag=$(header etag)
	[ -n "$etag" ] || fail "no ETag on the thumbnail"
	download "/api/v1/media/$id/thumbnail" "$MIA" -H "If-None-Match: $etag"
	expect_status 304
	# Someone else's private item: as if it did not exist; no token: 401.
	req GET "/api/v1/media/$id/thumbnail" -H "Authorization: Bearer $NOAH"
	expect_problem 404
	req GET "/api/v1/media/$id/thumbnail"
	expect_problem 401
	# Nginx's internal location is not reachable from outside.
	req GET "/_media/$(stored_thumb "$id")"
	expect_status 404
	# Public: others see it too.
	req PATCH "/api/v1/media/$id" -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: application/json' --data-raw '{"visibility":"public"}'
	expect_status 200
	download "/api/v1/media/$id/thumbnail" "$NOAH"
	expect_status 200
	expect_header content-type image/webp
}

# stored_thumb ID: the thumbnail's path under the media root.
stored_thumb() {
	gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_media \
	    -tAc "SELECT thumb_path FROM media WHERE id = '$1'"
}

t_89zv_pixel_bombs_refused_broken_images_kept() {
	local f before
	media_setup || return
	before=$(stored_files)
	# 30000 x 30000 in a PNG header: refused from the header alone.
	f="$T_MEDIA_DIR/bomb.png"
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x75\x30\x00\x00\x75\x30\x08\x00\x00\x00\x00\x00\x00\x00\x00' >"$f"
	upload "$f" image/png
	expect_problem 422
	expect_json ".errors[0].pointer" "#/file"
	expect_json '.detail | test("30000x30000.*limit")' true
	[ "$(stored_files)" = "$before" ] || fail "a refused image was kept"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
	# An image whose pixels cannot be decoded is still an image: kept,
	# without a thumbnail, and the decoder's complaint is logged.
	f="$T_MEDIA_DIR/broken.png"
	{ head -c 33 "$(draw ok.png 64 64)"; head -c 2000 /dev/urandom; } >"$f"
	upload "$f" image/png
	expect_status 201
	expect_json .thumbnail null
	expect_json '"\(.width)x\(.height)"' 64x64
	grep -q 'no thumbnail for a image/png' "$GH_STATE/logs/media.log" ||
	    fail "the decoder's failure was not logged"
	[ "$(tmp_files)" = 0 ] || fail "a temporary file was left"
}

t_89zw_delete_removes_the_thumbnail() {
	local id path
	media_setup || return
	upload "$(draw gone.png 100 100)" image/png
	id=$MID
	path=$(stored_thumb "$id")
	[ -n "$path" ] && [ -f "$GH_STATE/media/$path" ] || fail "no thumbnail on disk"
	req DELETE "/api/v1/media/$id" -H "Authorization: Bearer $MIA"
	expect_status 204
	[ ! -e "$GH_STATE/media/$path" ] || fail "the thumbnail outlived its item"
}

# The decoder's sandbox, checked by the program itself as the workers'
# user: it may read neither the link key nor the media root, make no
# socket (the database, the workers, the network), nor signal, limit or
# chmod what belongs to that user.
t_89zx_decoder_is_sandboxed() {
	local prog="$GH_STATE/bin/gatehouse-media-thumb" out as=() what target
	media_setup || return
	gh_is_root && as=(runuser -u "$(gh_worker_user)" --)
	for target in "$GH_STATE/secrets/media-link.key" "$GH_STATE/media"; do
		out=$("${as[@]}" "$prog" --check-sandbox "$target" 2>&1) ||
		    fail "the sandbox let something through: $out"
		printf '%s\n' "$out" | grep -q "^read .*: denied" ||
		    fail "reading $target was not denied: $out"
		for what in socket "signal to the parent" chmod \
		    "limits of the parent" io_uring; do
			printf '%s\n' "$out" | grep -q "^$what: denied" ||
			    fail "$what was not denied: $out"
		done
	done
	# The same read without the sandbox works: the check can fail.
	"${as[@]}" cat "$GH_STATE/secrets/media-link.key" >/dev/null 2>&1 ||
	    fail "the worker user cannot read its own key: the check above proves nothing"
}

# A decoder that hangs, and leaves a child behind: past the deadline the
# worker kills the whole group, and the upload stands without a thumbnail.
t_89zy_hung_decoder_is_killed_with_its_children() {
	local stub="$GH_STATE/bin/thumb-stub" start took
	media_setup || return
	cat >"$stub" <<-STUB
	#!/bin/sh
	[ "\$1" = --check-sandbox ] && exit 0
	sleep 97 &
	exec sleep 98
	STUB
	chmod 755 "$stub"
	gh_pool_stop media
	GH_MEDIA_MAX=1m GH_MEDIA_QUOTA=3m GH_MEDIA_THUMB_PROGRAM="$stub" \
	    GH_MEDIA_THUMB_SECONDS=1 gh_pool_start media
	pool_wait media
	start=$(date +%s)
	upload "$(draw hang.png 50 50)" image/png
	took=$(( $(date +%s) - start ))
	expect_status 201
	expect_json .thumbnail null
	[ "$took" -le 6 ] || fail "the upload took $took s past a 3 s deadline"
	sleep 0.3
	! pgrep -f '^sleep 9[78]$' >/dev/null || {
		fail "the decoder's processes outlived the deadline"
		pkill -f '^sleep 9[78]$'
	}
	gh_pool_stop media
	GH_MEDIA_MAX=1m GH_MEDIA_QUOTA=3m gh_pool_start media
	pool_wait media
}

