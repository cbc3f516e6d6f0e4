/* INI-style configuration files: `key = value` lines handed to a setter
 * (config.c passes config_set: every long option is a key). Knows nothing
 * of struct vm_config, so config.c -> config_file.c is one-way. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/config_file.h"
#include "host/file.h"

#define CONFIG_FILE_MAX (1 << 20)
#define CONFIG_MAX_DEPTH 4

/* Keys whose values are file paths, resolved against the file's directory. */
static bool is_path_key(const char *k)
{
	static const char *const keys[] = { "kernel", "initrd", "log", "status-file", "config", "config-file", "disk",
					     "bios", "screenshot", "share", "vhost-user-fs", NULL };
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

int ini_load_text(const char *text, const char *fname, const char *base_dir, ini_set_fn set,
		  void *opaque, char err[INI_ERR_LEN])
{
	char *copy = strdup(text), *save = NULL, *line;
	int lineno = 0, ret = 0;

	if (!copy) {
		snprintf(err, INI_ERR_LEN, "%s: out of memory", fname);
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
				snprintf(err, INI_ERR_LEN, "%s:%d: section header '%s' lacks ']'", fname,
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
			snprintf(err, INI_ERR_LEN, "%s:%d: missing key before '='", fname, lineno);
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
		char inner[INI_ERR_LEN];
		int r = set(opaque, key, val, inner);
		if (r) {
			if (r == -ENOENT)
				snprintf(err, INI_ERR_LEN, "%s:%d: unknown key '%s'; keys are the long "
					 "option names, see myvmm --help", fname, lineno, key);
			else
				snprintf(err, INI_ERR_LEN, "%.100s:%d: %.380s", fname, lineno, inner);
			ret = -EINVAL;
			break;
		}
	}
	free(copy);
	return ret;
}

int ini_load_file(const char *path, int *depth, ini_set_fn set, ini_json_fn json, void *opaque,
		  char err[INI_ERR_LEN])
{
	struct err e = { "" };
	uint8_t *buf = NULL;
	size_t n = 0;
	int ret;

	if (*depth >= CONFIG_MAX_DEPTH) {
		snprintf(err, INI_ERR_LEN, "%s: config files nest more than %d deep (a loop?)", path,
			 CONFIG_MAX_DEPTH);
		return -ELOOP;
	}
	/* Type-checked (a FIFO is refused, not waited on) and sized first. */
	if ((ret = file_read_all("--config", path, CONFIG_FILE_MAX, &buf, &n, &e))) {
		snprintf(err, INI_ERR_LEN, "%s%s", e.msg,
			 ret == -EFBIG ? "; is it a config file?" : "");
		return -EINVAL;
	}
	char *text = realloc(buf, n + 1);
	if (!text) {
		free(buf);
		return -ENOMEM;
	}
	text[n] = 0;
	if (memchr(text, 0, n)) {
		snprintf(err, INI_ERR_LEN, "--config %s: binary data; expected an INI or JSON text "
			 "file", path);
		free(text);
		return -EINVAL;
	}
	char *pcopy = strdup(path);
	char *dir = pcopy ? dirname(pcopy) : NULL;
	(*depth)++;
	if (json && api_config_is_json(text))
		ret = json(opaque, text, path, err);
	else
		ret = ini_load_text(text, path, dir, set, opaque, err);
	(*depth)--;
	free(pcopy);
	free(text);
	return ret;
}
