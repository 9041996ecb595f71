/*
 * Settings come from the environment (systemd EnvironmentFile); secrets
 * come from files named by NAME_FILE, never from the environment itself,
 * so they stay out of /proc/PID/environ and of `systemctl show`.
 */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H

#include <stddef.h>

/* gh_config.c */
long long	 gh_strtonum(const char *, long long, long long, const char **);
const char	*gh_config_str(const char *name, const char *def);
int		 gh_config_int(const char *name, long long def, long long min,
		    long long max, long long *out);
int		 gh_config_bool(const char *name, int def, int *out);
int		 gh_config_size(const char *name, long long def, long long max,
		    long long *out);
int		 gh_parse_size(const char *, long long max, long long *out,
		    const char **errstr);
char		*gh_config_secret(const char *name, size_t *len);
int		 gh_write_all(int fd, const void *buf, size_t len);
char		*gh_secret_read(const char *path, size_t *len,
		    const char **errstr);

#endif
