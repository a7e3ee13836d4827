#include "audit_chain.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[b[i] >> 4];
		out[2 * i + 1] = hexdigits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int plain_hash(const char *prev, const char *body, size_t len,
		      unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		return -ENOMEM;
	unsigned int n = 0;
	int ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(c, prev, AUDIT_HASH_HEX) &&
		 EVP_DigestUpdate(c, body, len) &&
		 EVP_DigestUpdate(c, "}", 1) && EVP_DigestFinal_ex(c, md, &n);
	EVP_MD_CTX_free(c);
	return ok && n == 32 ? 0 : -EIO;
}

static int keyed_hash(const struct audit_key *key, const char *prev,
		      const char *body, size_t len, unsigned char md[32])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest,
						 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n = 0;
	int ok = c && EVP_MAC_init(c, key->bytes, key->len, params) &&
		 EVP_MAC_update(c, (const unsigned char *)prev,
				AUDIT_HASH_HEX) &&
		 EVP_MAC_update(c, (const unsigned char *)body, len) &&
		 EVP_MAC_update(c, (const unsigned char *)"}", 1) &&
		 EVP_MAC_final(c, md, &n, 32);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	if (!mac || !c)
		return -ENOMEM;
	return ok && n == 32 ? 0 : -EIO;
}

int audit_chain_hash(const struct audit_key *key, const char *prev,
		     const char *body, size_t len, char out[AUDIT_HASH_HEX + 1])
{
	unsigned char md[32];
	int r = key && key->len ? keyed_hash(key, prev, body, len, md)
				: plain_hash(prev, body, len, md);
	if (r == 0)
		to_hex(md, sizeof(md), out);
	return r;
}

bool audit_chain_split(const char *line, size_t len, size_t *body_len,
		       char hash[AUDIT_HASH_HEX + 1])
{
	if (len < AUDIT_HASH_SUFFIX + 2)
		return false;
	const char *s = line + len - AUDIT_HASH_SUFFIX;
	if (memcmp(s, ",\"hash\":\"", 9) != 0 ||
	    memcmp(s + 9 + AUDIT_HASH_HEX, "\"}", 2) != 0)
		return false;
	for (size_t i = 0; i < AUDIT_HASH_HEX; i++)
		if (!strchr(hexdigits, s[9 + i]) || !s[9 + i])
			return false;
	memcpy(hash, s + 9, AUDIT_HASH_HEX);
	hash[AUDIT_HASH_HEX] = '\0';
	*body_len = len - AUDIT_HASH_SUFFIX;
	return true;
}

int audit_key_load(const char *path, bool owner_check, struct audit_key *key,
		   struct error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, errno,
				 "audit key file %s: %s", path,
				 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "audit key file %s: not a regular file", path);
	if (owner_check && (st.st_uid != 0 || (st.st_mode & 077)))
		return error_set(e, ERR_INVALID_ARGUMENT, EPERM,
				 "audit key file %s: must be owned by root "
				 "and readable by nobody else (chown root; "
				 "chmod 0600)",
				 path);
	ssize_t n = read(fd, key->bytes, sizeof(key->bytes));
	if (n < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, errno,
				 "audit key file %s: %s", path,
				 strerror(errno));
	if (n < 16 || (size_t)n == sizeof(key->bytes))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "audit key file %s: must hold 16 to %d bytes",
				 path, AUDIT_KEY_MAX - 1);
	key->len = (size_t)n;
	return 0;
}

bool audit_rotated_name(const char *name, unsigned *num)
{
	unsigned n;
	char tail;
	if (strlen(name) != 23 ||
	    sscanf(name, "executions-%8u.lo%c", &n, &tail) != 2 || tail != 'g')
		return false;
	*num = n;
	return true;
}
