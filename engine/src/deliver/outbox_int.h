/*
 * outbox_int.h — fault injection shared by outbox.c and push.c (see the top of
 * ecorisk/outbox.h for the environment variables that arm it). Private to
 * libecorisk.
 */
#ifndef ECORISK_OUTBOX_INT_H
#define ECORISK_OUTBOX_INT_H

#include <stdbool.h>

/* True when the armed allocation fault fires for this call. */
bool er_outbox_fault_alloc(void);

#endif
