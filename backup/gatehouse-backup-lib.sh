# shellcheck shell=bash
# Shared by gatehouse-backup, gatehouse-restore and gatehouse-backup-verify:
# settings, JSON log lines, running the PostgreSQL tools, reading sets.
# Sourced, never run. The caller sets `prog` first. The services and their
# databases come from gatehouse-common.sh, found beside this file's folder
# (admin/ in the source tree; ../gatehouse-common.sh installed).
# shellcheck disable=SC2154  # prog, set by the caller
#
# Settings (environment):
#   GH_BACKUP_DIR        backup root (default /var/backups/gatehouse)
#   GH_MEDIA_DIR         media folder (default /var/lib/gatehouse/media)
#   GH_BACKUP_KEEP_DAYS  retention in days (default 7)
#   GH_BACKUP_LOCK_WAIT  seconds a run waits for another one (default 3600)
#   GH_BACKUP_PG_RUNAS   system user that runs pg_dump/psql/pg_restore
#                        (default: postgres when run as root, else nobody:
#                        the tools run as the caller; "" to force that)
#   PGHOST PGPORT PGUSER libpq's, as usual (a superuser, e.g. postgres)
#   GH_DB_AUTH GH_DB_PAYMENTS GH_DB_MEDIA   database names, as sql/ uses
#   GH_DB_OWNER          owner role of the databases (gatehouse_owner)

gh_here=$(dirname "${BASH_SOURCE[0]}")
for gh_lib in "$gh_here/../admin" "$gh_here/.."; do
	[[ -f $gh_lib/gatehouse-common.sh ]] && break
done
# shellcheck source=../admin/gatehouse-common.sh
. "$gh_lib/gatehouse-common.sh" || {
	printf '%s: error: gatehouse-common.sh is not in %s nor %s\n' \
	    "$prog" "$gh_here/../admin" "$gh_here/.." >&2
	exit 1
}
unset gh_here gh_lib

: "${GH_BACKUP_DIR:=/var/backups/gatehouse}"
: "${GH_MEDIA_DIR:=/var/lib/gatehouse/media}"
: "${GH_BACKUP_KEEP_DAYS:=7}"
: "${GH_BACKUP_LOCK_WAIT:=3600}"
GH_DB_OWNER=$(gh_owner_role)
if [[ -z ${GH_BACKUP_PG_RUNAS+set} ]]; then
	if [[ $(id -u) == 0 ]] && id postgres >/dev/null 2>&1; then
		GH_BACKUP_PG_RUNAS=postgres
	else
		GH_BACKUP_PG_RUNAS=
	fi
fi
export PATH="$PATH:/usr/sbin:/sbin"

# Set names: gatehouse-YYYYMMDDTHHMMSSZ, or -N after it when two runs fall
# in one second. Age is judged by the UTC time in the name, not by mtime:
# a copy (rsync, cp) changes mtimes but never the name.
GH_SET_RE='^gatehouse-([0-9]{8}T[0-9]{6}Z)(-[0-9]+)?$'

# The media folder's own temporaries (uploads and thumbnails being
# written, mode 0700, the worker's alone): not media, never archived.
GH_MEDIA_TMP=tmp

# The media store's own files, ab/cd/abcd<28 hex> from the folder (as
# fcgi/media/store.c names them; grep -E, with its back-references).
# Anything else in the folder is not the store's and is archived as it is.
# shellcheck disable=SC2034  # used by the scripts that source this
GH_MEDIA_STORE_RE='^([0-9a-f]{2})/([0-9a-f]{2})/\1\2[0-9a-f]{28}$'

# The stored files' lock, a PostgreSQL advisory lock in the media
# database (fcgi/media/store.h, MEDIA_FILES_LOCK): a backup holds it
# alone from its media snapshot to the end of its archive; the workers
# and the sweep remove no stored file meanwhile.
# shellcheck disable=SC2034  # used by the scripts that source this
GH_MEDIA_FILES_LOCK="hashtext('gatehouse'), hashtext('media files')"

# The paths the media rows name (files and thumbnails), one a line.
# shellcheck disable=SC2034  # used by the scripts that source this
GH_MEDIA_PATHS_SQL="SELECT storage_path FROM media UNION
    SELECT thumb_path FROM media WHERE thumb_path IS NOT NULL;"

# One JSON line on stderr, the shape the workers log in (journald keeps it).
gh_json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/}
	printf '"%s"' "$s"
}

# log LEVEL EVENT MESSAGE [KEY VALUE]...
log() {
	local level=$1 event=$2 msg=$3 line
	shift 3
	line=$(printf '{"ts":"%s","level":"%s","service":"%s","pid":%d,"event":%s,"msg":%s' \
	    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$level" "$prog" "$$" \
	    "$(gh_json_str "$event")" "$(gh_json_str "$msg")")
	while (($# >= 2)); do
		line+=",$(gh_json_str "$1"):$(gh_json_str "$2")"
		shift 2
	done
	printf '%s}\n' "$line" >&2
}

die() {
	log error "${GH_EVENT:-$prog}" "$*"
	exit 1
}

say() {
	printf '%s: %s\n' "$prog" "$*"
}

check_settings() {
	local s
	gh_check_names
	[[ $GH_BACKUP_KEEP_DAYS =~ ^[0-9]+$ ]] ||
	    die "GH_BACKUP_KEEP_DAYS '$GH_BACKUP_KEEP_DAYS' is not a number of days"
	[[ $GH_BACKUP_LOCK_WAIT =~ ^[0-9]+$ ]] ||
	    die "GH_BACKUP_LOCK_WAIT '$GH_BACKUP_LOCK_WAIT' is not a number of seconds"
	for s in pg_dump pg_restore psql flock sha256sum tar; do
		command -v "$s" >/dev/null ||
		    die "$s not found (apt-get install postgresql-client tar coreutils util-linux)"
	done
}

# A PostgreSQL client tool, as GH_BACKUP_PG_RUNAS when set. The
# environment (PGHOST, PGPORT, PGUSER) is passed on; files are opened by
# the caller (redirections), so the backup folder can stay root's.
pgtool() {
	if [[ -n $GH_BACKUP_PG_RUNAS && $(id -un) != "$GH_BACKUP_PG_RUNAS" ]]; then
		# A folder the tool user may stand in (runuser keeps our cwd).
		(cd / && runuser -u "$GH_BACKUP_PG_RUNAS" -- "$@")
	else
		"$@"
	fi
}

# psql on database $1, script on stdin; unaligned rows without headers.
pgq() {
	local db=$1
	shift
	pgtool psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@" -f -
}

# A set by name or path; "latest" is the newest complete set.
resolve_set() {
	local arg=$1
	if [[ $arg == latest ]]; then
		arg=$(list_sets | tail -n 1)
		[[ -n $arg ]] || die "no complete backup set in $GH_BACKUP_DIR"
		arg=$GH_BACKUP_DIR/$arg
	elif [[ $arg != */* && ! -d $arg ]]; then
		arg=$GH_BACKUP_DIR/$arg
	fi
	[[ -d $arg ]] || die "no backup set $arg"
	(cd "$arg" && pwd)
}

# Complete sets (named like one, holding a manifest), oldest first.
list_sets() {
	local d base
	[[ -d $GH_BACKUP_DIR ]] || return 0
	for d in "$GH_BACKUP_DIR"/gatehouse-*; do
		base=${d##*/}
		[[ -d $d && $base =~ $GH_SET_RE && -f $d/MANIFEST.sha256 ]] ||
		    continue
		printf '%s\n' "$base"
	done | sort
}

# The set's time as seconds since the epoch, from its name.
set_epoch() {
	local t
	[[ $1 =~ $GH_SET_RE ]] || return 1
	t=${BASH_REMATCH[1]}
	date -u -d "${t:0:4}-${t:4:2}-${t:6:2} ${t:9:2}:${t:11:2}:${t:13:2}" +%s
}

# Checks every file against the manifest, and that the manifest names
# only plain files of the set and nothing is missing. Prints why not.
verify_manifest() {
	local set=$1 name out
	[[ -s $set/MANIFEST.sha256 ]] || { echo "no MANIFEST.sha256"; return 1; }
	while read -r _ name; do
		name=${name#\*}
		[[ $name =~ ^[A-Za-z0-9._-]+$ && $name != .* ]] ||
		    { echo "manifest names an odd file '$name'"; return 1; }
	done <"$set/MANIFEST.sha256"
	grep -q "  set.json\$" "$set/MANIFEST.sha256" ||
	    { echo "manifest lacks set.json"; return 1; }
	out=$(cd "$set" && sha256sum --strict --quiet -c MANIFEST.sha256 2>&1) ||
	    { printf '%s\n' "${out:-checksum mismatch}" | head -n 5; return 1; }
}

# The dump file of a service in a set, and the media archive.
dump_name() {
	echo "$1.dump"
}
# shellcheck disable=SC2034  # used by the scripts that source this
MEDIA_TAR=media.tar
