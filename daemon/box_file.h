/* Contents moved through fds a box's init opened as the box user: whole
 * writes, and whole reads handed back as base64 for the wire. */
#ifndef ISOL8D_BOX_FILE_H
#define ISOL8D_BOX_FILE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Writes all of data; 0 or a negative errno (-ENOSPC, -EFBIG...). */
int box_file_write(int fd, const void *data, size_t len);
/* Reads a regular file of at most cap bytes into a new JSON string of its
 * base64 (serialised without per-byte escaping).  -EISDIR for anything but
 * a regular file, -EFBIG past cap (*len then holds its size). */
int box_file_read_base64(int fd, uint64_t cap, json_object **content,
			 size_t *len);

#endif
