/*
 * xgb_api.c — XGBoost's table (xgb_api.h), opened by its soname on first use.
 */
#define ER_XGB_API_TABLE
#include "model/xgb_api.h"

#ifndef ECORISK_XGBOOST_SONAME
#define ECORISK_XGBOOST_SONAME "libxgboost.so.0"
#endif

ER_DYNLIB_DEFINE(lib, er_xgb_api, er_xgb, ER_XGB_FUNCTIONS, "XGBoost", ECORISK_XGBOOST_SONAME);

er_status er_xgb_load(er_err *err) { return er_dynlib_load(&lib, err); }
