#include "tenant.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number, or a name looked up in the user or group database. */
static bool parse_id(const char *text, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || end == text || *text == '-' ||
	    v >= (unsigned long)(uid_t)-1)
		return false;
	*out = v;
	return true;
}

void tenants_init(struct tenants *set, const struct config *cfg)
{
	unsigned long v;
	*set = (struct tenants){ 0 };
	if (parse_id(cfg->tenant_bridge_user, &v)) {
		set->bridge_uid = (uid_t)v;
		set->has_bridge = true;
	} else {
		const struct passwd *pw = getpwnam(cfg->tenant_bridge_user);
		set->has_bridge = pw != NULL;
		if (pw)
			set->bridge_uid = pw->pw_uid;
	}
	if (parse_id(cfg->tenant_admin_group, &v)) {
		set->admin_gid = (gid_t)v;
		set->has_admin_group = true;
	} else {
		const struct group *g = getgrnam(cfg->tenant_admin_group);
		set->has_admin_group = g != NULL;
		if (g)
			set->admin_gid = g->gr_gid;
	}
	if (!set->has_bridge)
		log_info("user %s (tenants.bridgeUser) does not exist: only "
			 "root may act for a tenant",
			 cfg->tenant_bridge_user);
	if (!set->has_admin_group)
		log_info("group %s (tenants.adminGroup) does not exist: only "
			 "root sees every tenant's sessions",
			 cfg->tenant_admin_group);
}

struct tenant *tenant_get(struct tenants *set, const char *name)
{
	for (struct tenant *t = set->list; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return tenant_ref(t);
	size_t len = strlen(name);
	struct tenant *t = calloc(1, sizeof(*t) + len + 1);
	if (!t)
		return NULL;
	memcpy(t->name, name, len + 1);
	t->set = set;
	t->refs = 1;
	t->next = set->list;
	set->list = t;
	return t;
}

struct tenant *tenant_ref(struct tenant *t)
{
	t->refs++;
	return t;
}

void tenant_unref(struct tenant *t)
{
	if (!t || --t->refs > 0)
		return;
	for (struct tenant **pp = &t->set->list; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t);
}

/* Whether the peer on fd has gid among its groups (SO_PEERGROUPS: its
 * supplementary groups when it connected). */
static bool peer_in_group(int fd, gid_t primary, gid_t gid)
{
	if (primary == gid)
		return true;
	gid_t small[64];
	_cleanup_free_ gid_t *big = NULL;
	gid_t *groups = small;
	socklen_t len = sizeof(small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE || !(big = malloc(len)))
			return false;
		groups = big;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			return false;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int tenant_identify(struct tenants *set, int fd, const struct ucred *peer,
		    struct peer_identity *out)
{
	char name[32];
	snprintf(name, sizeof(name), "uid:%u", (unsigned)peer->uid);
	*out = (struct peer_identity){ .uid = peer->uid };
	out->tenant = tenant_get(set, name);
	if (!out->tenant)
		return -ENOMEM;
	out->admin = peer->uid == 0 ||
		     (set->has_admin_group &&
		      peer_in_group(fd, peer->gid, set->admin_gid));
	out->may_act = peer->uid == 0 ||
		       (set->has_bridge && peer->uid == set->bridge_uid);
	return 0;
}

void peer_identity_clear(struct peer_identity *id)
{
	tenant_unref(id->tenant);
	id->tenant = NULL;
}

bool peer_connection_exempt(const struct tenants *set, uid_t uid)
{
	return uid == 0 || (set->has_bridge && uid == set->bridge_uid);
}

/* Names of the bridge's tenants; never a ':', so never a local "uid:N". */
static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > TENANT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ0123456789._@-",
			    s[i]) ||
		    !s[i])
			return false;
	return true;
}

int tenant_caller(struct tenants *set, const struct peer_identity *peer,
		  json_object *act_as, struct caller *out, struct error *e)
{
	*out = (struct caller){ 0 };
	if (!act_as) {
		out->tenant = tenant_ref(peer->tenant);
		out->admin = peer->admin;
		return 0;
	}
	if (!peer->may_act)
		return error_set(e, ERR_INVALID_ARGUMENT, EPERM,
				 "actAs: refused; only root and the HTTP "
				 "bridge's user (tenants.bridgeUser) may act "
				 "for a tenant");
	const char *name = json_object_get_string(act_as);
	size_t len = (size_t)json_object_get_string_len(act_as);
	if (!json_object_is_type(act_as, json_type_string) ||
	    (strcmp(name, "*") != 0 && !valid_name(name, len)))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "actAs: a tenant name of 1 to %d letters, "
				 "digits, '.', '_', '@' or '-', or \"*\", is "
				 "required",
				 TENANT_NAME_MAX);
	if (strcmp(name, "*") == 0) {
		out->tenant = tenant_ref(peer->tenant);
		out->admin = true;
		return 0;
	}
	out->tenant = tenant_get(set, name);
	if (!out->tenant)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	return 0;
}

struct caller caller_copy(const struct caller *c)
{
	return (struct caller){ .tenant = tenant_ref(c->tenant),
				.admin = c->admin };
}

void caller_clear(struct caller *c)
{
	tenant_unref(c->tenant);
	c->tenant = NULL;
}
