/*
 * gatehouse-media-thumb: one thumbnail, in a process of its own.
 *
 *	gatehouse-media-thumb TYPE SIZE MAX-PIXELS MEMORY-MIB SECONDS SANDBOX
 *
 * reads an image of TYPE (image/jpeg, image/png, image/gif or image/webp,
 * as the worker decided from its bytes) or a video (video/mp4 or
 * video/webm: ffmpeg, under the same caps, picks a telling frame among the
 * first ones and hands it over as a PNG) on standard input, writes a WebP
 * that fits in SIZE x SIZE (never enlarged, turned upright by its EXIF
 * orientation, metadata dropped) to descriptor 3, and prints its width
 * and height on standard output.
 *
 * The worker runs it for each image it keeps.  Decoding hostile input is
 * the riskiest thing the media service does, so it happens here: the
 * process holds no secret, no database connection and no client socket;
 * its address space, CPU time, file size and descriptors are capped
 * before the first byte is read; only the one loader that TYPE names is
 * allowed; and an image of more than MAX-PIXELS pixels (a decompression
 * bomb) is refused from its header, before its pixels are decoded.
 *
 * It runs as the worker's user, so before it reads anything it also
 * gives up what that user could do: a Landlock ruleset lets it (and
 * ffmpeg after it) read and run files under /usr only, read
 * /etc/ld.so.cache and its own input, and write or make no file
 * anywhere, so that a decoder exploit can neither read the link key or
 * the database settings nor touch the stored files; and a seccomp filter
 * refuses socket(2) and io_uring, so it reaches no database, worker or
 * network, and what Landlock leaves (signals to other processes, their
 * limits and priorities, file modes, owners, times and attributes).  Without Landlock in the
 * kernel it stops, unless SANDBOX is "try".
 *
 *	gatehouse-media-thumb --check-sandbox PATH
 *
 * sets the sandbox up, then tries to read and chmod PATH, make a socket,
 * signal its parent, read its parent's limits and set up io_uring, and
 * exits 0 only when all are refused.
 *
 * Exit status: 0 done; 2 the image is not what TYPE says or cannot be
 * decoded; 3 it has more than MAX-PIXELS pixels; 1 bad usage or a failure
 * of this program.  The reason is on standard error.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>

#include <vips/vips.h>

#define OUT_FD		3
#define OUT_MAX		(32LL << 20)	/* bytes of a thumbnail, at most */
#define WEBP_QUALITY	80
#define FRAME_MAX	(64 << 20)	/* bytes of a video frame, as PNG */
#define FFMPEG		"/usr/bin/ffmpeg"

/* The loaders each type may use; every other loader is blocked. */
static const struct loader {
	const char	*mime;
	const char	*class;		/* VipsForeignLoad subclass */
	const char	*prefix;	/* of its "vips-loader" name */
	const char	*demuxer;	/* a video: ffmpeg's, whose frame */
} loaders[] = {				/* comes as a PNG */
	{ "image/jpeg",	"VipsForeignLoadJpegSource",	"jpegload", NULL },
	{ "image/png",	"VipsForeignLoadPngSource",	"pngload", NULL },
	{ "image/gif",	"VipsForeignLoadNsgifSource",	"gifload", NULL },
	{ "image/webp",	"VipsForeignLoadWebpSource",	"webpload", NULL },
	{ "video/mp4",	"VipsForeignLoadPngSource",	"pngload", "mov" },
	{ "video/webm",	"VipsForeignLoadPngSource",	"pngload", "matroska" },
};

static const char	*progname = "gatehouse-media-thumb";

static long long
number(const char *s, long long min, long long max, const char *what)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "%s: %s %s: not a number from %lld to %lld\n",
		    progname, what, s, min, max);
		exit(1);
	}
	return n;
}

static int
limit(int resource, rlim_t n, const char *what)
{
	struct rlimit	 rl = { n, n };

	if (setrlimit(resource, &rl) == -1) {
		fprintf(stderr, "%s: setrlimit %s: %s\n", progname, what,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- sandbox */

#if defined(__x86_64__)
#define SECCOMP_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH	AUDIT_ARCH_AARCH64
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif
#define SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define SCOPE_SIGNAL		(1ULL << 1)

/* The ruleset's attributes, as large as the newest ABI we name. */
struct ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};

static int
rule(int ruleset, int fd, uint64_t access)
{
	struct landlock_path_beneath_attr pb = { access, fd };

	return (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
}

/* A rule for a path that may be missing (a system without /lib64). */
static int
rule_path(int ruleset, const char *path, uint64_t access)
{
	int	 fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	rc = rule(ruleset, fd, access);
	close(fd);
	return rc;
}

static int
landlock(void)
{
	struct ruleset_attr	 ra;
	const uint64_t		 rfile = LANDLOCK_ACCESS_FS_READ_FILE;
	const uint64_t		 rx = rfile | LANDLOCK_ACCESS_FS_READ_DIR |
				    LANDLOCK_ACCESS_FS_EXECUTE;
	struct stat		 st;
	size_t			 sz;
	long			 abi;
	int			 fd, rc = -1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		fprintf(stderr, "%s: no Landlock in this kernel: %s\n",
		    progname, strerror(errno));
		return -1;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	sz = offsetof(struct ruleset_attr, handled_access_net);
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6) {
		ra.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
		sz = sizeof(ra);
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &ra, sz, 0)) ==
	    -1) {
		fprintf(stderr, "%s: landlock_create_ruleset: %s\n", progname,
		    strerror(errno));
		return -1;
	}
	/* Programs and libraries; the loader's cache; the input itself. */
	if (rule_path(fd, "/usr", rx) == -1 ||
	    rule_path(fd, "/lib", rx) == -1 ||
	    rule_path(fd, "/lib64", rx) == -1 ||
	    rule_path(fd, "/etc/ld.so.cache", rfile) == -1 ||
	    (fstat(0, &st) == 0 && S_ISREG(st.st_mode) &&
	    rule(fd, 0, rfile) == -1)) {
		fprintf(stderr, "%s: landlock_add_rule: %s\n", progname,
		    strerror(errno));
		goto done;
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		fprintf(stderr, "%s: landlock_restrict_self: %s\n", progname,
		    strerror(errno));
		goto done;
	}
	rc = 0;
done:
	close(fd);
	return rc;
}

/*
 * What Landlock does not cover, or not on every kernel, refused with
 * seccomp: the decoder runs as the workers' user, so it must not reach
 * them or the files that user owns by other means.  Any other
 * architecture's call is fatal.
 */
static const int	 denied[] = {	/* EPERM */
	/* Signals and limits of other processes (Landlock scopes signals
	 * from ABI 6 only); leaving the process group the worker kills. */
	__NR_kill, __NR_tkill, __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo,
	__NR_pidfd_open, __NR_pidfd_send_signal, __NR_pidfd_getfd,
	__NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
	__NR_kcmp, __NR_setpriority, __NR_ioprio_set, __NR_sched_setaffinity,
	__NR_sched_setparam, __NR_sched_setscheduler, __NR_sched_setattr,
	__NR_setsid, __NR_setpgid,
	/* Modes, owners, times and attributes of files, and truncation by
	 * name: Landlock governs none of them (truncate from ABI 3). */
#ifdef __NR_chmod
	__NR_chmod, __NR_chown, __NR_lchown, __NR_utime, __NR_utimes,
	__NR_futimesat,
#endif
	__NR_fchmod, __NR_fchmodat, __NR_fchown, __NR_fchownat,
	__NR_utimensat, __NR_truncate, __NR_setxattr, __NR_lsetxattr,
	__NR_fsetxattr, __NR_removexattr, __NR_lremovexattr,
	__NR_fremovexattr,
	/* Keys of the user's keyrings. */
	__NR_add_key, __NR_request_key, __NR_keyctl,
};
static const int	 absent[] = {	/* ENOSYS: io_uring bypasses seccomp */
	__NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
};

#define ADD(stmt)	do {						\
	if (n == sizeof(f) / sizeof(f[0]))				\
		goto toolong;						\
	f[n++] = (struct sock_filter)stmt;				\
} while (0)
#define ARG_LO(i)	offsetof(struct seccomp_data, args[i])
#define ARG_HI(i)	(offsetof(struct seccomp_data, args[i]) + 4)

static int
seccomp(void)
{
#ifdef SECCOMP_ARCH
	struct sock_filter	 f[128];
	struct sock_fprog	 prog;
	uint32_t		 self = (uint32_t)getpid();
	size_t			 i, n = 0;

	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch)));
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0));
	ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
	/* x32's numbers: not ours. */
	ADD(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 1));
	ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES));
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)denied[i],
		    0, 1));
		ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	}
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)absent[i],
		    0, 1));
		ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
	}
	/* tgkill (raise, abort) to this process only. */
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 0, 5));
	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(0)));
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2));
	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)));
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 1, 0));
	ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	/* Resource limits of this process only (pid 0). */
	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr)));
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prlimit64, 0, 5));
	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(0)));
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2));
	ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)));
	ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
	ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));

	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1) {
		fprintf(stderr, "%s: seccomp: %s\n", progname,
		    strerror(errno));
		return -1;
	}
	return 0;
toolong:
	fprintf(stderr, "%s: seccomp: the filter is too long\n", progname);
	return -1;
#else
	fprintf(stderr, "%s: no seccomp filter for this architecture\n",
	    progname);
	return -1;
#endif
}

/* 0 when sandboxed; with "try", also when the kernel cannot. */
static int
sandbox(const char *mode)
{
	int	 ok;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		fprintf(stderr, "%s: no_new_privs: %s\n", progname,
		    strerror(errno));
		return -1;
	}
	ok = landlock() == 0;
	ok = seccomp() == 0 && ok;
	if (ok || strcmp(mode, "try") == 0)
		return 0;
	fprintf(stderr, "%s: no sandbox, no thumbnail (GH_MEDIA_THUMB_SANDBOX="
	    "try makes them without it)\n", progname);
	return -1;
}

/* 0 when the call was refused; prints what happened. */
static int
probe(const char *what, int rc)
{
	if (rc != -1) {
		printf("%s: allowed\n", what);
		return 1;
	}
	printf("%s: denied (%s)\n", what, strerror(errno));
	return 0;
}

static int
check_sandbox(const char *path)
{
	struct stat	 st;
	struct rlimit	 rl;
	int		 fd, sk, bad = 0;

	if (sandbox("required") != 0)
		return 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		printf("read %s: allowed\n", path);
		close(fd);
		bad = 1;
	} else
		printf("read %s: denied (%s)\n", path, strerror(errno));
	if ((sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		printf("socket: allowed\n");
		close(sk);
		bad = 1;
	} else
		printf("socket: denied (%s)\n", strerror(errno));
	/* Harmless if let through: a signal 0, this very mode, a read. */
	bad |= probe("signal to the parent", kill(getppid(), 0));
	bad |= probe("chmod", stat(path, &st) == 0 ?
	    chmod(path, st.st_mode & 07777) : 0);
	bad |= probe("limits of the parent", prlimit(getppid(),
	    RLIMIT_NOFILE, NULL, &rl));
	bad |= probe("io_uring", (int)syscall(__NR_io_uring_setup, 1,
	    &(char [256]){ 0 }));
	return bad;
}

/* ---------------------------------------------------------------- decoding */

/* The reason libvips gave, on one line. */
static void
refused(const char *what)
{
	char	*s, *p;

	s = g_strdup(vips_error_buffer());
	for (p = s; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s: %s: %s\n", progname, what, s);
	g_free(s);
	vips_error_clear();
}

/*
 * A frame of the video on standard input, as PNG bytes in *buf: ffmpeg's
 * thumbnail filter picks the most typical of the first frames (the very
 * first is often black).  ffmpeg inherits the caps; it reads the file
 * through /proc/self/fd/0, so that it may seek (an MP4's index is often at
 * its end).  Returns 0, or 2 when there is no frame to be had.
 */
static int
video_frame(const char *demuxer, long long maxpix, void **buf, size_t *len)
{
	static const char	 nox[] = "gatehouse-media-thumb: cannot run "
				    FFMPEG "\n";
	char		 pix[24];
	char		*argv[] = { "ffmpeg", "-nostdin", "-hide_banner",
			    "-loglevel", "error", "-threads", "1",
			    "-protocol_whitelist", "file", "-f", (char *)demuxer,
			    "-max_pixels", pix, "-i", "/proc/self/fd/0",
			    "-map", "0:v:0", "-vf", "thumbnail=30",
			    "-frames:v", "1", "-f", "image2pipe", "-c:v", "png",
			    "pipe:1", NULL };
	char		*envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	unsigned char	*b;
	size_t		 n = 0;
	ssize_t		 r;
	pid_t		 pid;
	int		 p[2], st;

	*buf = NULL;
	*len = 0;
	snprintf(pix, sizeof(pix), "%lld", maxpix);
	if ((b = malloc(FRAME_MAX)) == NULL || pipe2(p, O_CLOEXEC) == -1) {
		fprintf(stderr, "%s: %s\n", progname, strerror(errno));
		free(b);
		return 1;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "%s: fork: %s\n", progname, strerror(errno));
		close(p[0]);
		close(p[1]);
		free(b);
		return 1;
	}
	if (pid == 0) {
		/* Only what is safe after fork: no stdio. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
		    dup2(p[1], 1) == -1)
			_exit(127);
		execve(FFMPEG, argv, envp);
		(void)!write(2, nox, sizeof(nox) - 1);
		_exit(127);
	}
	close(p[1]);
	while (n < FRAME_MAX && ((r = read(p[0], b + n, FRAME_MAX - n)) > 0 ||
	    (r == -1 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	close(p[0]);
	if (n == FRAME_MAX)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			free(b);
			return 1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n == 0 ||
	    n == FRAME_MAX) {
		fprintf(stderr, "%s: no frame from ffmpeg (%s %d)\n", progname,
		    WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ?
		    WEXITSTATUS(st) : WTERMSIG(st));
		free(b);
		return 2;
	}
	*buf = b;
	*len = n;
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct loader	*ld = NULL;
	VipsSource		*src = NULL;
	VipsTarget		*dst = NULL;
	VipsImage		*head = NULL, *thumb = NULL;
	void			*frame = NULL;
	size_t			 framelen;
	const char		*name = NULL;
	long long		 size, maxpix, mib, secs;
	size_t			 i;
	int			 rc = 1;

	if (argc == 3 && strcmp(argv[1], "--check-sandbox") == 0)
		return check_sandbox(argv[2]);
	if (argc != 7 || (strcmp(argv[6], "required") != 0 &&
	    strcmp(argv[6], "try") != 0)) {
		fprintf(stderr, "usage: %s type size max-pixels memory-mib "
		    "seconds required|try <image 3>thumbnail\n"
		    "       %s --check-sandbox path\n", progname, progname);
		return 1;
	}
	for (i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++)
		if (strcmp(argv[1], loaders[i].mime) == 0)
			ld = &loaders[i];
	if (ld == NULL) {
		fprintf(stderr, "%s: %s: not a type this program reads\n",
		    progname, argv[1]);
		return 1;
	}
	size = number(argv[2], 16, 4096, "size");
	maxpix = number(argv[3], 1, 1LL << 40, "max-pixels");
	mib = number(argv[4], 128, 1 << 20, "memory-mib");
	secs = number(argv[5], 1, 3600, "seconds");

	/* Caps first: nothing below runs without them. */
	if (sandbox(argv[6]) != 0 ||
	    limit(RLIMIT_AS, (rlim_t)mib << 20, "AS") != 0 ||
	    limit(RLIMIT_CPU, (rlim_t)secs, "CPU") != 0 ||
	    limit(RLIMIT_FSIZE, (rlim_t)OUT_MAX, "FSIZE") != 0 ||
	    limit(RLIMIT_CORE, 0, "CORE") != 0 ||
	    limit(RLIMIT_NOFILE, 32, "NOFILE") != 0)
		return 1;

	/*
	 * The loaders used here are built into libvips; its modules (PDF,
	 * HEIF, JPEG XL, ImageMagick, OpenSlide) are never needed, and
	 * loading them costs a third of the run.  libvips looks for them
	 * under VIPSHOME: send it nowhere.
	 */
	if (setenv("VIPSHOME", "/nonexistent", 1) == -1 ||
	    VIPS_INIT(argv[0]) != 0) {
		refused("init");
		return 1;
	}
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	vips_block_untrusted_set(TRUE);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	vips_operation_block_set(ld->class, FALSE);

	if (ld->demuxer != NULL) {
		if ((rc = video_frame(ld->demuxer, maxpix, &frame,
		    &framelen)) != 0)
			goto done;
		rc = 1;
		src = vips_source_new_from_memory(frame, framelen);
	} else
		src = vips_source_new_from_descriptor(0);
	if (src == NULL) {
		refused("standard input");
		goto done;
	}
	/* The header only: its size decides whether the pixels are read. */
	if ((head = vips_image_new_from_source(src, "", "access",
	    VIPS_ACCESS_SEQUENTIAL, NULL)) == NULL) {
		refused("not a readable image");
		rc = 2;
		goto done;
	}
	if (vips_image_get_string(head, VIPS_META_LOADER, &name) != 0 ||
	    strncmp(name, ld->prefix, strlen(ld->prefix)) != 0) {
		fprintf(stderr, "%s: read as %s, not %s\n", progname,
		    name != NULL ? name : "nothing", argv[1]);
		rc = 2;
		goto done;
	}
	if ((long long)head->Xsize * head->Ysize > maxpix) {
		fprintf(stderr, "%s: %dx%d is more than %lld pixels\n",
		    progname, head->Xsize, head->Ysize, maxpix);
		rc = 3;
		goto done;
	}
	if (vips_thumbnail_source(src, &thumb, (int)size, "height", (int)size,
	    "size", VIPS_SIZE_DOWN, NULL) != 0) {
		refused("cannot be decoded");
		rc = 2;
		goto done;
	}
	if ((dst = vips_target_new_to_descriptor(OUT_FD)) == NULL ||
	    vips_webpsave_target(thumb, dst, "Q", WEBP_QUALITY, "strip", TRUE,
	    NULL) != 0) {
		refused("writing the thumbnail");
		goto done;
	}
	if (printf("size %d %d\n", thumb->Xsize, thumb->Ysize) < 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "%s: standard output: %s\n", progname,
		    strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (thumb != NULL)
		g_object_unref(thumb);
	if (head != NULL)
		g_object_unref(head);
	if (dst != NULL)
		g_object_unref(dst);
	if (src != NULL)
		g_object_unref(src);
	free(frame);
	vips_shutdown();
	return rc;
}
