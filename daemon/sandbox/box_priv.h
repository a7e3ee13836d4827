/* What box.c (a box's life, its init's messages) and box_create.c (making
 * a box, or wrapping a restored init) share. */
#ifndef ISOL8D_BOX_PRIV_H
#define ISOL8D_BOX_PRIV_H

#include "box.h"
#include "box_spec.h"
#include "image_mount.h"
#include "init_proto.h"
#include "net/egress.h"

#include <signal.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#define MAX_PENDING 64
#define MAX_RUNNING 64

enum pending_kind { PENDING_RUN, PENDING_OPEN };

struct pending {
	enum pending_kind kind;
	box_started_fn started;
	box_exited_fn exited;
	box_opened_fn opened;
	void *userdata;
};

struct running {
	pid_t pid;
	box_exited_fn exited;
	void *userdata;
};

struct box {
	struct box_host *host;
	char name[32];
	pid_t pid;
	int ctl;
	int egress[EGRESS_WAYS]; /* all -1 unless filtered */
	sd_event_source *ctl_src;
	sd_event_source *child_src;
	sd_event_source *cleanup_timer;
	struct cgroup_box *cg;
	int64_t uid_base;
	uint64_t ctl_ino;     /* the init's end of the control socket */
	struct box_spec spec; /* what it was made with */
	bool ready, dead, destroyed;
	bool frozen;   /* asked to freeze, not thawed since */
	bool host_net; /* in the daemon's network namespace */
	bool held;     /* holds an interpreter from the zygote, not yet run */
	/* while the zygote clones its first process (box_create.c) */
	struct box_clone *cloning;
	box_ready_fn on_ready;
	box_died_fn on_died;
	void *userdata;
	/* the image whose mount the box holds a reference on; "": host */
	char image[IMAGE_HEX_LEN + 1];
	struct pending pending[MAX_PENDING];
	unsigned pend_head, pend_len;
	struct running running[MAX_RUNNING];
};

/* Releases what b holds (fds, uid range, image mount) and frees it. */
void box_free(struct box *b);
/* The init's exit, from its pidfd. */
int box_on_child(sd_event_source *s, const siginfo_t *si, void *userdata);
/* A message from the init on the control socket. */
int box_on_ctl(sd_event_source *s, int fd, uint32_t revents, void *userdata);
/* Its set-up failed after box_create returned: a first process it watches
 * is killed, and the owner hears of it as of any set-up failure
 * (box_ready_fn); with no process, a box its owner has destroyed already
 * goes now. */
void box_set_up_failed(struct box *b, int err, const char *what);
int box_send_to_init(struct box *b, const struct init_msg *m,
		     const void *payload, const int *fds, int nfds);

#endif
