/* The files an execution moves through its box, by fds the box's init
 * opens as the box user: the request's files, the code file and the
 * working directory in before the run, its outputPaths out after it. */
#ifndef ISOL8D_EXECUTION_FILES_H
#define ISOL8D_EXECUTION_FILES_H

#include "jsonrpc.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct box;
struct file_reader;
struct exec_request;

struct execution_files {
	struct box *box;
	const struct exec_request *req;
	const char *id; /* the execution's, for the log */
	sd_event *event;
	uint64_t max_file_bytes;    /* out: a larger file is skipped */
	uint64_t max_total;	    /* out: more in all fails the execution */
	uint64_t total;		    /* out: the bytes read so far */
	struct file_reader *reader; /* out: the file being read */
	const bool *stop;	    /* out: nothing more is read once true */
	json_object **files;	    /* out: path → base64, made when needed */
	size_t next;		    /* the next step: 0 to start */
	/* in: the code file already open for writing (a pooled box's), or
	 * NULL or -1: taken (closed, set to -1) when the code is written. */
	int *code_fd;
	/* Called once: msg is NULL when all is done, else the message for
	 * the client. */
	void (*done)(struct execution_files *f, enum error_kind kind,
		     const char *msg);
};

/* Writes the request's files and the code file, then makes the working
 * directory: each call the next step. */
void execution_files_write(struct execution_files *f);
/* Reads the outputPaths into *files: each call the next path, each file
 * a slice per turn of the loop. */
void execution_files_read(struct execution_files *f);
/* Stops a read under way (the execution is ending); done is not called. */
void execution_files_stop(struct execution_files *f);

#endif
