/* The audit trail, the event loop's side: records go, one JSON line each,
 * through a bounded queue to the writer process (audit_writer.h), which
 * seals them into the hash chain and makes them durable.  What it answers
 * is the trail's state for health and metrics; audit.required refuses
 * executions while records cannot be written. */
#ifndef ISOL8D_AUDIT_H
#define ISOL8D_AUDIT_H

#include "config.h"
#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

/* journalctl MESSAGE_ID=... finds every execution's record, and the
 * trail's failures. */
#define AUDIT_MESSAGE_ID "4f8e2c1b7a9d4e3f9c0b6a5d8e7f1a2b"
#define AUDIT_FAILURE_MESSAGE_ID "7c1a0f4e2b9d4c6e8a3f5b7d9e1c2a40"

struct audit;

/* NULL in *out when audit.enabled is off.  Fails (with e's message) on a
 * key file that is not root's alone or a postLogUser that does not
 * exist; a destination that cannot be written is not an error here: the
 * writer keeps trying and the state shows it. */
int audit_start(sd_event *event, const struct config_audit *cfg,
		struct audit **out, struct error *e);
/* Hands the writer what is queued and waits for it to end. */
void audit_free(struct audit *a);

/* Queues one record (without its chain members); never blocks. */
void audit_write(struct audit *a, json_object *record);

/* audit.required is on and the last records could not be written; msg
 * says why. */
bool audit_refuses(const struct audit *a, char *msg, size_t len);

/* {enabled, status: "ok"|"failing", destination, records, written,
 * dropped, queuedBytes, lastError} for health and metrics. */
json_object *audit_status_json(const struct audit *a);

#endif
