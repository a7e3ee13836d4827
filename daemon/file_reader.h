/* Reads a file a box's init opened into base64 one slice per turn of the
 * event loop, so that a large output file never holds the loop up. */
#ifndef ISOL8D_FILE_READER_H
#define ISOL8D_FILE_READER_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct file_reader;

/* err 0 with content (a JSON string of the base64, serialised without
 * per-byte escaping; the callee's) and the bytes read, or a read error.
 * The reader is freed before the call. */
typedef void (*file_reader_done_fn)(void *userdata, int err,
				    json_object *content, size_t len);

/* Takes fd.  *size gets the file's size.  -EISDIR for anything but a
 * regular file, -EFBIG past cap; else done is called later, from the
 * loop. */
int file_reader_start(sd_event *ev, int fd, uint64_t cap, uint64_t *size,
		      file_reader_done_fn done, void *userdata,
		      struct file_reader **out);
/* Stops a read that has not ended; done is not called.  NULL is fine. */
void file_reader_free(struct file_reader *r);

#endif
