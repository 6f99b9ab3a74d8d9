/*
 * ecorisk.h — umbrella header of libecorisk: includes every public header.
 * Conventions (status codes, error messages, ownership) are in status.h; how
 * the headers export their declarations is in api.h; each module header says
 * what it owns. docs/architecture.md maps the modules.
 */
#ifndef ECORISK_H
#define ECORISK_H
#include "ecorisk/api.h"
#include "ecorisk/version.h"
#include "ecorisk/status.h"
#include "ecorisk/data.h"
#include "ecorisk/arena.h"
#include "ecorisk/decl.h"
#include "ecorisk/refdata.h"
#include "ecorisk/quarantine.h"
#include "ecorisk/feed.h"
#include "ecorisk/anomaly.h"
#include "ecorisk/profile.h"
#include "ecorisk/baseline.h"
#include "ecorisk/score.h"
#include "ecorisk/run.h"
#include "ecorisk/registry.h"
#include "ecorisk/mirror.h"
#include "ecorisk/analyst.h"
#include "ecorisk/outbox.h"
#include "ecorisk/push.h"
#endif
