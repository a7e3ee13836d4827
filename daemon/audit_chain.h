/* The audit trail's hash chain, shared by the daemon's writer and
 * `isol8ctl audit verify`.  A record is one line of JSON whose last member
 * is "hash"; the bytes hashed are the line without that member (its
 * ",\"hash\":\"...\"" cut out, the closing brace kept), preceded by the
 * previous record's hash in hex: sha256 of them, or HMAC-SHA256 under a
 * key.  The text as written is what is hashed, so no canonical form of
 * JSON is needed: nothing is re-serialised. */
#ifndef ISOL8D_AUDIT_CHAIN_H
#define ISOL8D_AUDIT_CHAIN_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

#define AUDIT_HASH_HEX 64
/* The previous hash of the very first record. */
#define AUDIT_GENESIS                                                          \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* ,"hash":"<64 hex>"} */
#define AUDIT_HASH_SUFFIX (9 + AUDIT_HASH_HEX + 2)
#define AUDIT_KEY_MAX 4096

/* audit.logDir's default, and the trail's files in it: the current one, the rotated ones
 * (numbered, oldest first) and the anchor retention leaves. */
#define AUDIT_DEFAULT_DIR "/var/log/isol8/audit"
#define AUDIT_FILE "executions.log"
#define AUDIT_ROTATED_FMT "executions-%08u.log"
#define AUDIT_ANCHOR "anchor"

/* Whether name is a rotated file's (AUDIT_ROTATED_FMT), and its number. */
bool audit_rotated_name(const char *name, unsigned *num);

struct audit_key {
	unsigned char bytes[AUDIT_KEY_MAX];
	size_t len; /* 0: no key, a plain sha256 chain */
};

/* The hash of body[0..len) followed by "}" after prev (hex); out gets 64 hex
 * digits and a NUL.  0 or -ENOMEM/-EIO. */
int audit_chain_hash(const struct audit_key *key, const char *prev,
		     const char *body, size_t len,
		     char out[AUDIT_HASH_HEX + 1]);

/* Splits a line (no newline) into the part hashed (body_len bytes, to
 * which "}" is added) and its stated hash; false when the line does not
 * end with a hash member. */
bool audit_chain_split(const char *line, size_t len, size_t *body_len,
		       char hash[AUDIT_HASH_HEX + 1]);

/* Reads the key file: it must be a regular file owned by root and
 * readable by nobody else, of 16 to AUDIT_KEY_MAX bytes.  owner_check off
 * for a copy the verifier was handed. */
int audit_key_load(const char *path, bool owner_check, struct audit_key *key,
		   struct error *e);

#endif
