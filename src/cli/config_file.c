/* INI-style configuration files: every command-line option is a key. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"

#define CONFIG_FILE_MAX (1 << 20)
#define CONFIG_MAX_DEPTH 4

/* Keys whose values are file paths, resolved against the file's directory. */
static bool is_path_key(const char *k)
{
	static const char *const keys[] = { "kernel", "initrd", "log", "status-file", "config", "disk",
					     "bios", "screenshot", NULL };
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Strips one level of matching quotes. */
static char *unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = 0;
		return v + 1;
	}
	return v;
}

int config_load_text(struct vm_config *c, const char *text, const char *fname,
		     const char *base_dir, char err[CONFIG_ERR_LEN])
{
	char *copy = strdup(text), *save = NULL, *line;
	int lineno = 0, ret = 0;

	if (!copy) {
		snprintf(err, CONFIG_ERR_LEN, "%s: out of memory", fname);
		return -ENOMEM;
	}
	/* strtok_r would skip empty lines and miscount; walk by hand. */
	for (line = copy; line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (s[strlen(s) - 1] != ']') {
				snprintf(err, CONFIG_ERR_LEN, "%s:%d: section header '%s' lacks ']'", fname,
					 lineno, s);
				ret = -EINVAL;
				break;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		char *key = s, *val = NULL;
		if (eq) {
			*eq = 0;
			key = trim(s);
			val = unquote(trim(eq + 1));
		}
		if (!*key) {
			snprintf(err, CONFIG_ERR_LEN, "%s:%d: missing key before '='", fname, lineno);
			ret = -EINVAL;
			break;
		}
		char path[4096];
		if (val && *val && base_dir && is_path_key(key) && val[0] != '/') {
			snprintf(path, sizeof(path), "%s/%s", base_dir, val);
			val = path;
		} else if (val && base_dir && !strcmp(key, "console") && !strncmp(val, "file:", 5) &&
			   val[5] && val[5] != '/') {
			snprintf(path, sizeof(path), "file:%s/%s", base_dir, val + 5);
			val = path;
		}
		char inner[CONFIG_ERR_LEN];
		int r = config_set(c, key, val, inner);
		if (r) {
			if (r == -ENOENT)
				snprintf(err, CONFIG_ERR_LEN, "%s:%d: unknown key '%s'; keys are the long "
					 "option names, see myvmm --help", fname, lineno, key);
			else
				snprintf(err, CONFIG_ERR_LEN, "%.100s:%d: %.380s", fname, lineno, inner);
			ret = -EINVAL;
			break;
		}
	}
	free(copy);
	return ret;
}

int config_load_file(struct vm_config *c, const char *path, char err[CONFIG_ERR_LEN])
{
	FILE *f;
	char *buf = NULL, *dir = NULL;
	size_t n;
	int ret;

	if (c->config_depth >= CONFIG_MAX_DEPTH) {
		snprintf(err, CONFIG_ERR_LEN, "%s: config files nest more than %d deep (a loop?)", path,
			 CONFIG_MAX_DEPTH);
		return -ELOOP;
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, CONFIG_ERR_LEN, "--config %s: %s; check the path", path, strerror(errno));
		return -EINVAL;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_FILE_MAX) {
		snprintf(err, CONFIG_ERR_LEN, "--config %s: larger than 1 MiB; is it a config file?", path);
		free(buf);
		return -EINVAL;
	}
	buf[n] = 0;
	if (memchr(buf, 0, n)) {
		snprintf(err, CONFIG_ERR_LEN, "--config %s: binary data; expected an INI text file", path);
		free(buf);
		return -EINVAL;
	}
	char *pcopy = strdup(path);
	dir = pcopy ? dirname(pcopy) : NULL;
	c->config_depth++;
	ret = config_load_text(c, buf, path, dir, err);
	c->config_depth--;
	free(pcopy);
	free(buf);
	return ret;
}
