/*
 * xgb_api.h — XGBoost's C API, opened on first use (core/dynlib.h): a run
 * whose model trees compile (model/forest.c) never loads it. Include this
 * instead of <xgboost/c_api.h> and call er_xgb_load before the first XG*
 * call of a code path; the names below then call through the table, and an
 * XGBoost function not listed here fails the link.
 */
#ifndef ECORISK_MODEL_XGB_API_H
#define ECORISK_MODEL_XGB_API_H

#include <xgboost/c_api.h>

#include "core/dynlib.h"

#define ER_XGB_FUNCTIONS(X, T)                                                                                \
    X(T, XGBGetLastError) X(T, XGBoostVersion) X(T, XGBoosterCreate) X(T, XGBoosterFree)                      \
    X(T, XGBoosterSetParam) X(T, XGBoosterUpdateOneIter) X(T, XGBoosterEvalOneIter)                           \
    X(T, XGBoosterPredictFromDMatrix) X(T, XGBoosterPredictFromDense) X(T, XGBoosterLoadModelFromBuffer)      \
    X(T, XGBoosterSaveModelToBuffer) X(T, XGDMatrixCreateFromCSREx) X(T, XGDMatrixCreateFromMat)              \
    X(T, XGDMatrixSetFloatInfo) X(T, XGDMatrixFree)

typedef struct er_xgb_api {
    ER_XGB_FUNCTIONS(ER_DYNLIB_FIELD, _)
} er_xgb_api;

extern er_xgb_api er_xgb;

/* Open XGBoost, once per process: ER_ELIBRARY when it cannot be. */
er_status er_xgb_load(er_err *err);

#ifndef ER_XGB_API_TABLE   /* xgb_api.c names the functions themselves */
#define XGBGetLastError (*er_xgb.XGBGetLastError)
#define XGBoostVersion (*er_xgb.XGBoostVersion)
#define XGBoosterCreate (*er_xgb.XGBoosterCreate)
#define XGBoosterFree (*er_xgb.XGBoosterFree)
#define XGBoosterSetParam (*er_xgb.XGBoosterSetParam)
#define XGBoosterUpdateOneIter (*er_xgb.XGBoosterUpdateOneIter)
#define XGBoosterEvalOneIter (*er_xgb.XGBoosterEvalOneIter)
#define XGBoosterPredictFromDMatrix (*er_xgb.XGBoosterPredictFromDMatrix)
#define XGBoosterPredictFromDense (*er_xgb.XGBoosterPredictFromDense)
#define XGBoosterLoadModelFromBuffer (*er_xgb.XGBoosterLoadModelFromBuffer)
#define XGBoosterSaveModelToBuffer (*er_xgb.XGBoosterSaveModelToBuffer)
#define XGDMatrixCreateFromCSREx (*er_xgb.XGDMatrixCreateFromCSREx)
#define XGDMatrixCreateFromMat (*er_xgb.XGDMatrixCreateFromMat)
#define XGDMatrixSetFloatInfo (*er_xgb.XGDMatrixSetFloatInfo)
#define XGDMatrixFree (*er_xgb.XGDMatrixFree)
#endif

#endif
