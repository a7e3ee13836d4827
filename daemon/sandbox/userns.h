/* Host uid/gid ranges for boxes and writing a child's id maps.  Each live
 * box owns a distinct range of 65536 ids above a configured base, so no two
 * boxes (and never host root) share an identity. */
#ifndef ISOL8D_USERNS_H
#define ISOL8D_USERNS_H

#include <stdint.h>
#include <sys/types.h>

#define USERNS_RANGE 65536u

struct uid_slots;

int uid_slots_new(uint32_t base, uint32_t count, struct uid_slots **out);
void uid_slots_free(struct uid_slots *s);
/* The host id that box id 0 maps to, or -EBUSY when every slot is taken. */
int64_t uid_slots_acquire(struct uid_slots *s);
void uid_slots_release(struct uid_slots *s, int64_t host_base);
/* Takes the slot of host_base (a hibernated box's, whose files and
 * restored processes keep those ids): 0, -EBUSY when in use, -ERANGE when
 * not a slot of s. */
int uid_slots_take(struct uid_slots *s, int64_t host_base);

/* setgroups=deny, gid_map and uid_map of pid: box ids 0..65535 onto
 * host_base..host_base+65535. */
int userns_write_maps(pid_t pid, uint32_t host_base);

#endif
