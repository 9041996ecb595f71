# shellcheck shell=bash
# gatehouse-common.sh: what the gatehouse shell tools share: the services,
# the database and roles of each, and the check of the names that are
# spliced into SQL. Sourced, never run; by gatehouse-db-setup,
# gatehouse-migrate, the backup tools (through gatehouse-backup-lib.sh),
# gatehouse-first-run and script/stack.sh.
#
# Installed as $(pkgdatadir)/gatehouse-common.sh; a script finds it in
# admin/ of the source tree or in ../share/gatehouse from its own folder.
# The functions that check (gh_check_*, gh_select_services) call the
# caller's `die MESSAGE`, which must not return.
#
# Settings (environment):
#   GH_DB_AUTH GH_DB_PAYMENTS GH_DB_MEDIA  database names (gatehouse_auth,
#                                          gatehouse_payments, gatehouse_media)
#   GH_DB_OWNER                            owner role (gatehouse_owner)

# In the order the tools handle them.
GH_ALL_SERVICES=(auth payment media)

# gh_db_var SERVICE: the variable that names the service's database.
gh_db_var() {
	case $1 in
	auth)		echo GH_DB_AUTH ;;
	payment)	echo GH_DB_PAYMENTS ;;
	media)		echo GH_DB_MEDIA ;;
	*)		return 1 ;;
	esac
}

# gh_db_for SERVICE: the service's database.
gh_db_for() {
	case $1 in
	auth)		echo "${GH_DB_AUTH:-gatehouse_auth}" ;;
	payment)	echo "${GH_DB_PAYMENTS:-gatehouse_payments}" ;;
	media)		echo "${GH_DB_MEDIA:-gatehouse_media}" ;;
	*)		return 1 ;;
	esac
}

# gh_app_role SERVICE: the role the service's workers log in as; it may
# use the rows of its own database and nothing else.
gh_app_role() {
	gh_is_service "$1" || return 1
	echo "gatehouse_$1_app"
}

# The role that owns the databases and runs the migrations.
gh_owner_role() {
	echo "${GH_DB_OWNER:-gatehouse_owner}"
}

# The role gatehouse-mailer logs in as: it may connect to the auth
# database only, and read, update and delete rows of its mail outbox,
# nothing else (auth queues the mail; the mailer only delivers it).
gh_mailer_role() {
	echo gatehouse_mailer
}

gh_is_service() {
	case $1 in
	auth|payment|media)	return 0 ;;
	*)			return 1 ;;
	esac
}

# gh_ident_ok NAME: a plain lower-case SQL identifier, which needs no
# quoting anywhere (SQL, psql variables, libpq connection strings).
gh_ident_ok() {
	[[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]]
}

# gh_check_ident WHAT NAME: dies unless NAME is a plain identifier.
gh_check_ident() {
	gh_ident_ok "$2" ||
	    die "$1 '$2' is not a plain lower-case SQL identifier"
}

# Dies unless the owner role and every database name are plain
# identifiers: they are spliced into SQL.
gh_check_names() {
	local s
	gh_check_ident "owner role (GH_DB_OWNER)" "$(gh_owner_role)"
	for s in "${GH_ALL_SERVICES[@]}"; do
		gh_check_ident "database name for $s ($(gh_db_var "$s"))" "$(gh_db_for "$s")"
	done
}

# gh_select_services NAME...: the services named (auth, payment, media,
# or all), each once and in GH_ALL_SERVICES' order, into the array
# GH_SELECTED; dies on another name.
gh_select_services() {
	local n s want=" "
	for n in "$@"; do
		case $n in
		all)	want+="${GH_ALL_SERVICES[*]} " ;;
		*)	gh_is_service "$n" ||
			    die "unknown service '$n' (auth, payment, media or all)"
			want+="$n " ;;
		esac
	done
	GH_SELECTED=()
	for s in "${GH_ALL_SERVICES[@]}"; do
		[[ $want != *" $s "* ]] || GH_SELECTED+=("$s")
	done
}

# gh_find_sql_dir DIR SCRIPT_DIR: the migrations root: DIR when given,
# else next to the script (the source tree's sql/), else
# ../share/gatehouse/sql from it (installed). Dies when there is none.
gh_find_sql_dir() {
	local dir=$1 here=$2 s
	if [[ -n $dir ]]; then
		[[ -d $dir ]] || die "sql directory $dir does not exist"
		echo "$dir"
		return
	fi
	for dir in "$here" "$here/../share/gatehouse/sql"; do
		for s in "${GH_ALL_SERVICES[@]}"; do
			[[ -d $dir/$s ]] && { echo "$dir"; return; }
		done
	done
	die "no migrations found next to $here; use --sql-dir or GH_SQL_DIR"
}
