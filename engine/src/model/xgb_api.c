/*
 * xgb_api.c — XGBoost's table (xgb_api.h), opened by its soname on first use.
 */
#define ER_XGB_API_TABLE
#include "model/xgb_api.h"

#ifndef ECORISK_XGBOOST_SONAME
#define ECORISK_XGBOOST_SONAME "libxgboost.so.0"
#endif

er_xgb_api er_xgb;

#define SYM(f) ER_DYNLIB_SYM(er_xgb_api, f)
static const er_dynsym syms[] = {ER_XGB_FUNCTIONS(SYM){NULL, 0}};
#undef SYM

static er_dynlib lib = ER_DYNLIB_INIT("XGBoost", ECORISK_XGBOOST_SONAME, syms, &er_xgb);

er_status er_xgb_load(er_err *err) { return er_dynlib_load(&lib, err); }
