/* Freezing a box: every process of its cgroup stopped where it stands and
 * thawed again, by the v1 freezer controller or v2's cgroup.freeze. */
#include "cgroup_priv.h"

#include <errno.h>
#include <string.h>

int cgroup_box_freeze(struct cgroup_box *box, bool frozen)
{
	if (box->root->v2) {
		int r = cg_write_at(box->fd[0], "cgroup.freeze",
				    frozen ? "1" : "0");
		return r == -ENOENT ? -EOPNOTSUPP : r;
	}
	if (box->fd[CG_FREEZER] < 0)
		return -EOPNOTSUPP;
	return cg_write_at(box->fd[CG_FREEZER], "freezer.state",
			   frozen ? "FROZEN" : "THAWED");
}

int cgroup_box_frozen(const struct cgroup_box *box)
{
	if (box->root->v2) {
		uint64_t v = 0;
		int r = cg_read_key_at(box->fd[0], "cgroup.events", "frozen",
				       &v);
		return r < 0 ? r : v == 1;
	}
	if (box->fd[CG_FREEZER] < 0)
		return -EOPNOTSUPP;
	/* FREEZING until the last process has stopped. */
	char state[32] = "";
	int r = cg_read_at(box->fd[CG_FREEZER], "freezer.state", state,
			   sizeof(state));
	return r < 0 ? r : strncmp(state, "FROZEN", 6) == 0;
}
