/* The machine description: filled from the command line (and config files),
 * validated purely, then handed to vm_create(). Strings are owned copies. */
#ifndef MYVMM_CONFIG_H
#define MYVMM_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_ERR_LEN 512
#define CONFIG_DEFAULT_MEM (512ULL << 20)
#define CONFIG_MAX_DISKS 16

/* CONSOLE_PTY/CONSOLE_UNIX: a pseudo-terminal or a listening unix socket
 * (src/host/console_chan.c) that clients attach to. */
enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE, CONSOLE_VIRTIO, CONSOLE_PTY,
		    CONSOLE_UNIX };
enum disk_cache { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE };
enum disk_if { DISK_IF_VIRTIO, DISK_IF_IDE };
/* --boot: AUTO = kernel when --kernel is given, else disk (firmware). */
enum boot_order { CFG_BOOT_AUTO, CFG_BOOT_DISK, CFG_BOOT_KERNEL };
/* DISPLAY_DEFAULT: not given; main() picks sdl when $DISPLAY is set (and SDL
 * is built in), else none. */
enum display_kind { DISPLAY_DEFAULT, DISPLAY_NONE, DISPLAY_SDL };
#define CONFIG_DISPLAY_W 1024
#define CONFIG_DISPLAY_H 768

struct disk_config {
	char *path;
	bool ro;
	enum disk_cache cache;
	enum disk_if iface;
	char serial[21];         /* VIRTIO_BLK_ID_BYTES (20) + NUL */
	int format;              /* enum disk_format: 0 = probe by magic (host/disk_format.h) */
	bool root;               /* Firecracker's is_root_device: config_finish adds root= */
	int aio;                 /* enum blk_aio (devices/virtio/blk.h): 0 = auto */
};

/* --share HOSTDIR[,tag=TAG][,ro] (virtiofsd started by myvmm) or
 * --vhost-user-fs SOCKET[,tag=TAG] (a virtiofsd the user started): one
 * virtio-fs device each, tags unique. */
#define CONFIG_MAX_SHARES 4
#define CONFIG_SHARE_TAG_MAX 36   /* virtio-fs config tag[36] */
#define CONFIG_SHARE_DEFAULT_TAG "share"
struct share_config {
	char *dir;               /* --share; NULL for --vhost-user-fs */
	char *socket;            /* --vhost-user-fs; NULL for --share */
	char tag[CONFIG_SHARE_TAG_MAX + 1];
	bool ro;
};

/* --net user: the libslirp network (addresses in host byte order). */
#define CONFIG_MAX_HOSTFWD 16
#define CONFIG_DEFAULT_MAC { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }
#define NET_USER_NETWORK 0x0a000200u   /* 10.0.2.0/24 */
#define NET_USER_GATEWAY 0x0a000202u   /* 10.0.2.2: the host, answers ARP/ping */
#define NET_USER_DNS     0x0a000203u   /* 10.0.2.3 */
#define NET_USER_GUEST   0x0a00020fu   /* 10.0.2.15: DHCP lease, default forward target */
enum net_kind { NET_NONE, NET_USER };

struct net_hostfwd {
	bool udp;
	uint32_t host_addr;      /* IPv4, network byte order (default 127.0.0.1) */
	uint16_t host_port;
	uint32_t guest_addr;     /* IPv4, network byte order (default 10.0.2.15) */
	uint16_t guest_port;
};

struct net_config {
	enum net_kind kind;
	uint8_t mac[6];          /* default 52:54:00:12:34:56 */
	struct net_hostfwd fwd[CONFIG_MAX_HOSTFWD];
	unsigned nfwd;
	bool host_loopback;      /* host-loopback=on: 10.0.2.2 reaches the host's
				    127.0.0.1 (default off; docs/SECURITY.md) */
};

struct vm_config {
	char *kernel, *initrd, *cmdline;
	char *bios;              /* --bios: firmware image; NULL = Debian's SeaBIOS */
	enum boot_order boot;
	uint64_t mem;            /* bytes */
	char *mem_path;          /* --mem-path: hugetlbfs dir or file for guest RAM; NULL = none */
	bool hugepages;          /* --hugepages: guest RAM on a MFD_HUGETLB memfd */
	unsigned cpus;
	bool no_reboot;
	bool no_pit;             /* --no-pit: no i8254 (faster start/exit) */
	uint64_t timeout_ms;     /* 0 = none */
	enum console_kind console;
	char *console_path;      /* CONSOLE_FILE, CONSOLE_UNIX */
	bool no_default_console; /* --no-default-console: never add console= */
	char *name;
	char *log_path;
	bool debug;
	char *expect, *expect_fail;
	char *status_file;
	char *screenshot;   /* --screenshot: PNG of the display at exit */
	struct disk_config disks[CONFIG_MAX_DISKS];
	unsigned ndisks;
	struct share_config shares[CONFIG_MAX_SHARES];
	unsigned nshares;
	bool virtio_console;     /* --console virtio: hvc0 on the terminal */
	struct net_config net;   /* --net */
	uint64_t vsock_cid;      /* --vsock CID,PATH; 0 = no vsock device */
	char *vsock_path;
	enum display_kind display;
	uint32_t display_w, display_h; /* initial mode (--display sdl,width=,height=) */
	char *gdb;               /* --gdb SPEC (gdb/spec.h); NULL = no stub */
	bool gdb_wait;           /* --gdb-wait: start stopped until gdb continues */
	int sandbox;             /* --sandbox: enum sandbox_mode (host/sandbox.h), 0 = on */
	char *api_sock;          /* --api-sock PATH: the control API socket; NULL = none */
	char *metrics_path;      /* --metrics PATH (Firecracker's metrics); NULL = none */
	char *restore;           /* --restore SNAPSHOT: start from a snapshot; NULL = boot */
	char *restore_mem;       /* its guest RAM file (default SNAPSHOT.mem) */
	bool restore_paused;     /* --restore ...,paused: stay paused after the restore */
	/* machine-config track_dirty_pages (API / JSON config file), PUT
	 * /snapshot/load enable_diff_snapshots: KVM dirty logging, so that
	 * PUT /snapshot/create can write Diff snapshots. */
	bool track_dirty;
	/* The "logger" section of a JSON --config-file (PUT /logger's body):
	 * log_path must exist; the file gets logger_level (-1 = Off). */
	bool logger_set;
	int logger_level;
	bool logger_show_level, logger_show_origin;
	bool show_help, show_version, check_host;
	/* --snapshot-merge DIFF,into=BASE: apply a Diff memory file, then exit. */
	char *merge_diff, *merge_base;
	enum config_doc { DOC_NONE, DOC_MAN, DOC_COMPLETION } print_doc; /* --help-man, --help-completion */
	bool qemu_mode;          /* parsed as a QEMU command line (src/cli/qemu_args.c) */
	char *pidfile;           /* QEMU -pidfile */
	int config_depth;        /* nested --config guard */
};

/* Sets defaults (512M, 1 CPU, stdio console). */
void config_init(struct vm_config *c);
void config_free(struct vm_config *c);

/* Parses argv: exact long option names ("--name VALUE", "--name=VALUE"), -h,
 * and one positional kernel. Unknown options are errors with a suggestion
 * (edit distance; QEMU spellings map to the native option). Returns 0, or
 * -EINVAL with one line in err (problem and fix). Pure apart from
 * allocation and --config files. */
int config_parse_args(struct vm_config *c, int argc, char **argv, char err[CONFIG_ERR_LEN]);
/* Cross-option checks after all sources are merged (kernel or disk given, ...). */
int config_validate(const struct vm_config *c, char err[CONFIG_ERR_LEN]);
/* After validation: the kernel command line gets console=ttyS0 (console=hvc0
 * with --console virtio) when it names no console= and --no-default-console
 * is not set; an absent command line becomes just that. A disk marked root
 * (PUT /drives is_root_device) adds "root=/dev/vdX rw|ro" when the command
 * line names no root=, as Firecracker does. Returns 0 or -ENOMEM. */
int config_finish(struct vm_config *c);
/* Sets one option by its long name, as config files do ("mem", "512M").
 * Returns 0, -ENOENT for an unknown key, -EINVAL for a bad value. */
int config_set(struct vm_config *c, const char *key, const char *value, char err[CONFIG_ERR_LEN]);

/* Loads an INI-style file: `key = value` lines (keys are the long option
 * names), `#`/`;` comments, optional `[section]` headers (ignored). Relative
 * paths are taken relative to the file's directory. Errors name FILE:LINE. */
int config_load_file(struct vm_config *c, const char *path, char err[CONFIG_ERR_LEN]);
/* Pure core of config_load_file: parses text; base_dir for relative paths. */
int config_load_text(struct vm_config *c, const char *text, const char *fname,
		     const char *base_dir, char err[CONFIG_ERR_LEN]);

/* Parses "PATH[,ro][,cache=none|writeback][,aio=io_uring|native|threads][,serial=ID]
 * [,if=virtio|ide]". Pure. */
int parse_disk(const char *spec, struct disk_config *d, char err[CONFIG_ERR_LEN]);

/* Parses "HOSTDIR[,tag=TAG][,ro]" (external false: --share) or
 * "SOCKET[,tag=TAG]" (external: --vhost-user-fs) into s (tag default
 * "share"; ",," is a comma in the path). Pure. */
int parse_share(const char *spec, bool external, struct share_config *s,
		char err[CONFIG_ERR_LEN]);

/* Parses "none" or "user[,hostfwd=tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT]...[,mac=XX:..]
 * [,host-loopback=on|off]"
 * into n (replacing it). Pure. */
int parse_net(const char *spec, struct net_config *n, char err[CONFIG_ERR_LEN]);

/* "512M", "2G", "1048576K", "64" (MiB). Returns 0 or -EINVAL/-ERANGE. */
int parse_size(const char *s, uint64_t *out);
/* "30", "1.5", "500ms" -> milliseconds. */
int parse_duration_ms(const char *s, uint64_t *out);

/* True when the machine boots through firmware (--boot disk, or no --kernel). */
bool config_boot_firmware(const struct vm_config *c);

void config_print_help(const char *prog);
/* The man page (roff) and bash completion, generated from the options table. */
void config_print_man(FILE *f);
void config_print_completion(FILE *f);
/* Levenshtein distance, capped (returns cap+1 when larger). Pure. */
unsigned config_edit_distance(const char *a, size_t alen, const char *b, size_t blen, unsigned cap);
#endif
