#include "file_reader.h"

#include "base64.h"
#include "cleanup.h"
#include "json_build.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whole base64 groups, and about a millisecond of copying and encoding. */
#define SLICE ((size_t)3 << 18)

struct file_reader {
	int fd;
	uint64_t size, off;
	unsigned char *slice;
	char *b64;
	size_t b64_len;
	sd_event_source *step;
	file_reader_done_fn done;
	void *userdata;
};

void file_reader_free(struct file_reader *r)
{
	if (!r)
		return;
	sd_event_source_disable_unref(r->step);
	close(r->fd);
	free(r->slice);
	free(r->b64);
	free(r);
}

static void finish(struct file_reader *r, int err)
{
	json_object *content = NULL;
	if (err == 0) {
		content = json_string_verbatim(r->b64, r->b64_len);
		if (!content)
			err = -ENOMEM;
	}
	file_reader_done_fn done = r->done;
	void *userdata = r->userdata;
	size_t len = (size_t)r->off;
	file_reader_free(r);
	done(userdata, err, content, len);
}

static int on_step(sd_event_source *s, void *userdata)
{
	(void)s;
	struct file_reader *r = userdata;
	size_t want =
		r->size - r->off < SLICE ? (size_t)(r->size - r->off) : SLICE;
	ssize_t n = want ? pread(r->fd, r->slice, want, (off_t)r->off) : 0;
	if (n < 0 && errno == EINTR)
		return 0; /* again on the next turn */
	if (n < 0) {
		finish(r, -errno);
		return 0;
	}
	r->b64_len +=
		base64_encode_to(r->slice, (size_t)n, r->b64 + r->b64_len);
	r->off += (uint64_t)n;
	/* A file that shrank ends where it ends now. */
	if ((size_t)n == want && r->off < r->size)
		return 0;
	finish(r, 0);
	return 0;
}

int file_reader_start(sd_event *ev, int fd, uint64_t cap, uint64_t *size,
		      file_reader_done_fn done, void *userdata,
		      struct file_reader **out)
{
	_cleanup_close_ int file = fd;
	struct stat st;
	if (fstat(file, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	*size = (uint64_t)st.st_size;
	if (*size > cap)
		return -EFBIG;
	struct file_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = TAKE_FD(file);
	r->size = *size;
	r->done = done;
	r->userdata = userdata;
	r->slice = malloc(SLICE);
	r->b64 = malloc((size_t)(r->size + 2) / 3 * 4 + 1);
	int err = r->slice && r->b64 ? 0 : -ENOMEM;
	if (err == 0)
		err = sd_event_add_defer(ev, &r->step, on_step, r);
	/* Each turn of the loop, after the I/O that is ready. */
	if (err == 0)
		err = sd_event_source_set_enabled(r->step, SD_EVENT_ON);
	if (err == 0)
		err = sd_event_source_set_priority(r->step,
						   SD_EVENT_PRIORITY_IDLE);
	if (err < 0) {
		file_reader_free(r);
		return err;
	}
	*out = r;
	return 0;
}
