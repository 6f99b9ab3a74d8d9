/*
 * ecorisk.h — umbrella header of libecorisk. Conventions (status codes, error
 * messages, ownership) are in status.h; each module header says what it owns.
 */
#ifndef ECORISK_H
#define ECORISK_H
#include "ecorisk/status.h"
#include "ecorisk/arena.h"
#include "ecorisk/decl.h"
#include "ecorisk/refdata.h"
#include "ecorisk/feed.h"
#include "ecorisk/anomaly.h"
#include "ecorisk/profile.h"
#include "ecorisk/baseline.h"
#include "ecorisk/outbox.h"
#include "ecorisk/push.h"
#endif
