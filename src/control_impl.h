/*
 * control_impl.h -- what the files of the control socket share beyond
 * control.h.  Not part of any public surface: only src/control.c and
 * src/control_status.c include it.
 *
 *   control.c         the socket: listening, serving a request, the client
 *   control_status.c  rendering a status snapshot: text, JSON, Prometheus
 */
#ifndef TAPBRIDGE_CONTROL_IMPL_H
#define TAPBRIDGE_CONTROL_IMPL_H

#include <stdio.h>

#include "tapbridge/datapath.h"

/*
 * control_prometheus(info, out): write info to out in the Prometheus text
 * exposition format (version 0.0.4), for "status prometheus".  Text and
 * JSON go through control_format() in control.h.
 */
void control_prometheus(const struct datapath_info *info, FILE *out);

#endif
