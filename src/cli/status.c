#include "cli/status.h"

#include <errno.h>

int status_exit_code(enum stop_reason why, int value, bool no_reboot)
{
	switch (why) {
	case STOP_POWEROFF:
	case STOP_EXPECT:
	case STOP_QUIT:
	case STOP_RESET: /* only reached as a final reason with --no-reboot */
		return 0;
	case STOP_DEBUG_EXIT:
		/* (v << 1) | 1 as QEMU's isa-debug-exit, in unsigned arithmetic and
		 * reduced to the 8-bit process status: only v's low 7 bits count,
		 * for every value the port accepts (0 .. 0x7fffffff). */
		return (int)((((unsigned)value & 0x7fu) << 1) | 1u);
	case STOP_TIMEOUT:
		return 124;
	case STOP_INTERNAL_ERROR:
		return 3;
	case STOP_PANIC:
		return 4;
	case STOP_EXPECT_FAIL:
		return 5;
	case STOP_SIGNAL:
		return 128 + value;
	case STOP_NONE:
	default:
		return 3;
	}
}

const char *status_reason_name(enum stop_reason why)
{
	static const char *const names[] = {
		[STOP_NONE] = "none", [STOP_POWEROFF] = "poweroff", [STOP_RESET] = "reset",
		[STOP_DEBUG_EXIT] = "debug-exit", [STOP_TIMEOUT] = "timeout",
		[STOP_INTERNAL_ERROR] = "internal-error", [STOP_PANIC] = "panic",
		[STOP_EXPECT] = "expect-match", [STOP_EXPECT_FAIL] = "expect-fail-match",
		[STOP_QUIT] = "quit", [STOP_SIGNAL] = "signal",
	};
	if ((unsigned)why < sizeof(names) / sizeof(names[0]) && names[why])
		return names[why];
	return "unknown";
}

void json_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			/* Control bytes and non-ASCII (the guest may print anything,
			 * not necessarily UTF-8) are escaped, keeping the JSON valid. */
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

int status_write_json(FILE *f, const struct run_status *s)
{
	fputs("{\n  \"reason\": ", f);
	json_write_string(f, status_reason_name(s->reason));
	fprintf(f, ",\n  \"exit_code\": %d", s->exit_code);
	if (s->reason == STOP_DEBUG_EXIT)
		fprintf(f, ",\n  \"debug_exit_value\": %d", s->value);
	if (s->reason == STOP_SIGNAL)
		fprintf(f, ",\n  \"signal\": %d", s->value);
	fprintf(f, ",\n  \"wall_time_ms\": %llu", (unsigned long long)s->wall_ms);
	if (s->boot_marker_ms >= 0)
		fprintf(f, ",\n  \"boot_marker_ms\": %lld", (long long)s->boot_marker_ms);
	else
		fputs(",\n  \"boot_marker_ms\": null", f);
	fprintf(f, ",\n  \"resets\": %u,\n  \"cpus\": %u,\n  \"memory_bytes\": %llu", s->resets,
		s->cpus, (unsigned long long)s->mem);
	fputs(",\n  \"memory_path\": ", f);
	if (s->mem_path)
		json_write_string(f, s->mem_path);
	else
		fputs("null", f);
	fputs(",\n  \"kernel\": ", f);
	json_write_string(f, s->kernel);
	fputs(",\n  \"name\": ", f);
	if (s->name)
		json_write_string(f, s->name);
	else
		fputs("null", f);
	fputs(",\n  \"last_console_lines\": [", f);
	for (unsigned i = 0; i < s->nlines; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_write_string(f, s->lines[i]);
	}
	fputs(s->nlines ? "\n  ]\n}\n" : "]\n}\n", f);
	return ferror(f) ? -EIO : 0;
}
