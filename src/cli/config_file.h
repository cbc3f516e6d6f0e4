/* The INI reader behind --config (config_file.c): `key = value` lines,
 * `#`/`;` comments, `[section]` headers ignored; relative paths of path
 * keys are taken relative to the file's directory. Each pair goes to a
 * setter; errors name FILE:LINE. */
#ifndef MYVMM_CONFIG_FILE_H
#define MYVMM_CONFIG_FILE_H

#define INI_ERR_LEN 512  /* == CONFIG_ERR_LEN */

/* Returns 0, -ENOENT for an unknown key, or -errno with a line in err. */
typedef int (*ini_set_fn)(void *opaque, const char *key, const char *value,
			  char err[INI_ERR_LEN]);

int ini_load_text(const char *text, const char *fname, const char *base_dir, ini_set_fn set,
		  void *opaque, char err[INI_ERR_LEN]);
/* Loads a whole file's text in another format (Firecracker's JSON). */
typedef int (*ini_json_fn)(void *opaque, const char *text, const char *fname,
			   char err[INI_ERR_LEN]);

/* Reads path (a regular file of at most 1 MiB; nesting counted in *depth,
 * at most 4) and loads it: with json when it is JSON (api_config_is_json;
 * json non-NULL), else as INI through set. */
int ini_load_file(const char *path, int *depth, ini_set_fn set, ini_json_fn json, void *opaque,
		  char err[INI_ERR_LEN]);
#endif
