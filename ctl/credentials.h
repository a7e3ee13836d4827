/* ~/.isol8/credentials.json, as isol8's CLI keeps it: {host, token,
 * expiresAt, keyId} of the last `login`, and the API key resolution of
 * every --host command that reads it. */
#ifndef ISOL8CTL_CREDENTIALS_H
#define ISOL8CTL_CREDENTIALS_H

#include <stddef.h>

/* How messages name the file, as isol8's do. */
#define CREDENTIALS_SHOWN "~/.isol8/credentials.json"

struct credentials {
	const char *host, *token, *expires_at, *key_id;
};

/* Writes the file (mode 0600 from its creation, replacing the old one at
 * once); refuses a file or directory that another user owns, a symbolic
 * link in the file's place, or a directory others may write.  0, or a
 * negative errno with why filled in. */
int credentials_save(const struct credentials *c, char *why, size_t why_len);

/* 1 removed, 0 there was none, or a negative errno. */
int credentials_remove(void);

/* The API key for host, in isol8's order: key (the --key flag), then
 * $ISOL8_API_KEY, then the stored token when its host is host (one
 * trailing '/' aside on both) and it has not expired (else a warning).
 * None, or an unusable file: prints "[ERR] ..." and returns NULL.
 * Otherwise a copy (caller frees). */
char *credentials_api_key(const char *host, const char *key);

#endif
