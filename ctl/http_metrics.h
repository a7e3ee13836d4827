/* GET /metrics: the daemon's `metrics` answer in Prometheus' text format. */
#ifndef ISOL8CTL_HTTP_METRICS_H
#define ISOL8CTL_HTTP_METRICS_H

#include <microhttpd.h>

struct http_request;

enum MHD_Result http_metrics(struct http_request *r);

#endif
