/* The audit trail's writer: a process forked from the daemon at start, so
 * that writing and fsyncing records, rotating and pruning files and
 * running the post-log script never block the event loop.
 *
 * It reads records from its socket, one JSON object per line without the
 * chain, seals each (audit_chain.h: "seq", "prevHash", then "hash"),
 * appends a batch with one write and one fdatasync, and answers each
 * batch with a line: "ok <records> <file>\n" or "err <errno> <records>\n".
 * A batch that fails is retried every second, holding later ones back (the
 * daemon's queue bounds them); a torn write is cut off before the retry,
 * and a torn last line left by a crash is cut off at start, so a crash
 * loses at most the batch being written and never breaks the chain. */
#ifndef ISOL8D_AUDIT_WRITER_H
#define ISOL8D_AUDIT_WRITER_H

#include "audit_chain.h"

#include <stdint.h>
#include <sys/types.h>

struct audit_writer_cfg {
	const char *dir; /* NULL: records go to stdout */
	const struct audit_key *key;
	uint64_t max_file_bytes;
	uint64_t retention_days; /* 0: files are kept */
	const char *script;	 /* NULL: none */
	uid_t script_uid;
	gid_t script_gid;
	uint64_t script_timeout_ms;
};

/* The writer's main loop on fd; never returns. */
__attribute__((noreturn)) void
audit_writer_main(int fd, const struct audit_writer_cfg *c);

#endif
