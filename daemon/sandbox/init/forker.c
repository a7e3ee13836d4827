/* isol8-init as the box forker (zygote.h): the daemon's zygote for every
 * box that holds no interpreter.  It clones each box's first process from
 * its own small address space instead of the daemon's, which that
 * process would copy and then throw away at its exec. */
#include "forker.h"

#include "sandbox/box_init.h"
#include "sandbox/zygote/requests.h"
#include "sandbox/zygote_proto.h"

#include <sys/prctl.h>

void init_fork_boxes(void)
{
	prctl(PR_SET_NAME, FORKER_NAME);
	struct box_init_args a;
	zygote_requests_serve(NULL, &a);
	/* The box's first process, named as the daemon's clones are. */
	prctl(PR_SET_NAME, "isol8d");
	box_init_exec(box_init_prepare(&a));
}
