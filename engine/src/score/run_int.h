/*
 * run_int.h — what explain shares with the run: the risk lanes of a run
 * config, so that the alert explain shows is the one the run would emit.
 * Private to libecorisk.
 */
#ifndef ECORISK_RUN_INT_H
#define ECORISK_RUN_INT_H

#include "ecorisk/score.h"
#include "ecorisk/status.h"

/* Load the run config at path (docs/operations.md) and return its risk lanes
 * (the defaults when it sets none). Errors as `run --config` reports them. */
er_status er_run_config_lanes(const char *path, er_risk_lanes *lanes, er_err *err);

#endif
