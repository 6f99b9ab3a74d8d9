/*
 * registry_run.h — what the daily run (score/run.c) and the alert writer
 * need from the registry module, behind a few calls so run.c stays about
 * scheduling: open the registries and the ledger for the run, pass each batch
 * through the sequential check in feed order, total the harm of the alerts,
 * commit the ledger, add the "registries" member to summary.json, and write
 * an alert's "harm" member. See docs/registries.md.
 */
#ifndef ECORISK_REGISTRY_RUN_H
#define ECORISK_REGISTRY_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/sbuf.h"
#include "ecorisk/profile.h"
#include "ecorisk/registry.h"
#include "ecorisk/run.h"

typedef struct reg_run {
    er_registry *reg;          /* NULL: the run has no registries; every call is a no-op */
    er_ledger   *led;
    char         key[48];      /* ledger run key: as-of date and a hash of the feed names */
    bool         persistent;   /* --ledger given: entries are kept across runs */
    uint64_t     checked;      /* declarations that cited a document */
    uint64_t     alerts_harm[ER_DOMAIN_COUNT];
    double       odp_t, co2e_t;   /* tonnes at stake in the run's ODS alerts */
    uint64_t     by_appendix[4];  /* wildlife alerts by CITES appendix of a cited permit (0: none) */
    uint64_t     by_annex[5];     /* waste alerts by Basel annex: none, I, II, VIII, IX */
} reg_run;

/* readonly: explain's pass (the ledger is read without its lock and never committed). */
er_status reg_run_open(reg_run *rr, const er_run_opts *o, bool readonly, er_err *err);
er_status reg_run_batch(reg_run *rr, er_batch *b, er_err *err);
void      reg_run_alert(reg_run *rr, const er_decl *d, er_domain dom);
er_status reg_run_commit(reg_run *rr, er_err *err);
/* Append "registries" to the finished summary.json object in b. */
void      reg_run_summary(const reg_run *rr, er_sb *b);
/* Append the registry metrics to metrics.prom's text in b. */
void      reg_run_metrics(const reg_run *rr, er_sb *b);
void      reg_run_close(reg_run *rr);

/* Expected harm of an alert with this score: score / 100 × CO2e tonnes at stake (ODS/HFC with a
 * known substance), 0 otherwise — the key of "capacity_order": "harm". */
double    reg_run_expected_harm(const er_decl *d, double score);

/* The alert's "harm" and "documents" members (nothing without registries). */
void      er_alert_registry_json(er_sb *b, const er_decl *d);

#endif
