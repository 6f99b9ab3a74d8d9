/*
 * registry_run.c — the registry module's part of the daily run (see
 * registry_run.h and docs/registries.md): the ledger key, the batch pass, the
 * harm totals of the alerts, the ledger commit, and the JSON the summary and
 * the alerts carry.
 */
#include "registry/registry_run.h"
#include "ecorisk/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

er_status reg_run_open(reg_run *rr, const er_run_opts *o, bool readonly, er_err *err)
{
    er_status st;
    memset(rr, 0, sizeof *rr);
    if (!o->registry) {
        if (o->ledger)
            return er_errf(err, ER_EINVAL, "--ledger needs --registry (the documents the ledger counts against)");
        return ER_OK;
    }
    if (o->ledger && !o->as_of)
        return er_errf(err, ER_EINVAL, "--ledger needs --as-of (the business date the run's ledger entries belong to)");
    /* Run key: the business date and the feeds as given, so a re-run of the same day replaces its entries. */
    uint64_t h = er_hash64("ecorisk-ledger", 14, 0);
    for (size_t i = 0; i < o->n_feeds; i++)
        h = er_hash64(o->feeds[i], strlen(o->feeds[i]) + 1, h);
    char day[11] = "0000-00-00";
    if (o->as_of)
        er_date_format(o->as_of, day);
    snprintf(rr->key, sizeof rr->key, "%s-%08llx", day, (unsigned long long)(h & 0xffffffffULL));
    if ((st = er_registry_load(&rr->reg, o->registry, o->reference, err)) != ER_OK)
        return st;
    rr->persistent = o->ledger != NULL;
    if ((st = (readonly ? er_ledger_open_readonly : er_ledger_open)(&rr->led, o->ledger, rr->key, err)) != ER_OK) {
        er_registry_free(rr->reg);
        rr->reg = NULL;
        return st;
    }
    return ER_OK;
}

er_status reg_run_batch(reg_run *rr, er_batch *b, er_err *err)
{
    if (!rr->reg)
        return ER_OK;
    er_status st = er_ledger_check_batch(rr->led, rr->reg, b, err);
    for (size_t i = 0; i < b->n; i++)
        rr->checked += b->decls[i].permits || b->decls[i].licences || b->decls[i].consents;
    return st;
}

/* Basel Convention annex of a waste code: A → VIII (hazardous), B → IX (not hazardous unless
 * Annex III characteristics), Y1-Y45 → I (controlled), Y46-Y48 → II (special consideration). */
static const char *basel_annex(const char *code)
{
    if (code[0] == 'A' && code[1] >= '0' && code[1] <= '9')
        return "VIII";
    if (code[0] == 'B' && code[1] >= '0' && code[1] <= '9')
        return "IX";
    if (code[0] == 'Y' && code[1] >= '0' && code[1] <= '9') {
        int n = atoi(code + 1);
        return n >= 1 && n <= 45 ? "I" : n >= 46 && n <= 48 ? "II" : NULL;
    }
    return NULL;
}

void reg_run_alert(reg_run *rr, const er_decl *d, er_domain dom)
{
    if (!rr->reg || !d->docs)
        return;
    if (dom == ER_DOMAIN_ODS && d->docs->substance) {
        rr->odp_t += d->docs->odp_t;
        rr->co2e_t += d->docs->co2e_t;
        rr->alerts_harm[dom]++;
    } else if (dom == ER_DOMAIN_WILDLIFE) {
        rr->by_appendix[d->docs->cites_appendix < 4 ? d->docs->cites_appendix : 0]++;
    } else if (dom == ER_DOMAIN_WASTE) {
        static const char *const annexes[] = {"I", "II", "VIII", "IX"};
        const char *a = d->docs->basel_code[0] ? basel_annex(d->docs->basel_code) : NULL;
        size_t k = 0;
        for (size_t i = 0; a && i < 4; i++)
            if (strcmp(a, annexes[i]) == 0)
                k = i + 1;
        rr->by_annex[k]++;
    }
}

er_status reg_run_commit(reg_run *rr, er_err *err)
{
    return rr->reg ? er_ledger_commit(rr->led, err) : ER_OK;
}

void reg_run_summary(const reg_run *rr, er_sb *b)
{
    if (!rr->reg || b->len < 3 || strcmp(b->p + b->len - 3, "\n}\n") != 0)
        return;
    er_ledger_stats ls;
    er_ledger_stats_get(rr->led, &ls);
    b->len -= 3;
    er_sb_puts(b, ",\n  \"registries\": {");
    er_sb_printf(b, "\"permits\": %zu, \"licences\": %zu, \"consents\": %zu, ",
                 er_registry_count(rr->reg, ER_DOC_PERMIT), er_registry_count(rr->reg, ER_DOC_LICENCE),
                 er_registry_count(rr->reg, ER_DOC_CONSENT));
    er_sb_printf(b, "\"declarations_citing\": %llu,\n    \"ledger\": {\"key\": ", (unsigned long long)rr->checked);
    er_sb_json_cstr(b, rr->key);
    er_sb_printf(b, ", \"persistent\": %s, \"entries_before\": %llu, \"entries_this_run\": %llu, "
                    "\"already_counted\": %llu},\n",
                 rr->persistent ? "true" : "false", (unsigned long long)ls.entries_base,
                 (unsigned long long)ls.entries_run, (unsigned long long)ls.already_counted);
    er_sb_puts(b, "    \"harm\": {\"ods_alerts_with_substance\": ");
    er_sb_printf(b, "%llu, \"odp_tonnes\": ", (unsigned long long)rr->alerts_harm[ER_DOMAIN_ODS]);
    er_sb_json_numg(b, rr->odp_t, 6);
    er_sb_puts(b, ", \"co2e_tonnes\": ");
    er_sb_json_numg(b, rr->co2e_t, 6);
    er_sb_printf(b, ", \"wildlife_alerts_by_appendix\": {\"I\": %llu, \"II\": %llu, \"III\": %llu, \"none\": %llu}",
                 (unsigned long long)rr->by_appendix[1], (unsigned long long)rr->by_appendix[2],
                 (unsigned long long)rr->by_appendix[3], (unsigned long long)rr->by_appendix[0]);
    er_sb_printf(b, ",\n      \"waste_alerts_by_annex\": {\"I\": %llu, \"II\": %llu, \"VIII\": %llu, \"IX\": %llu, "
                    "\"none\": %llu}}\n  }\n}\n",
                 (unsigned long long)rr->by_annex[1], (unsigned long long)rr->by_annex[2],
                 (unsigned long long)rr->by_annex[3], (unsigned long long)rr->by_annex[4],
                 (unsigned long long)rr->by_annex[0]);
}

void reg_run_close(reg_run *rr)
{
    er_ledger_free(rr->led);
    er_registry_free(rr->reg);
    memset(rr, 0, sizeof *rr);
}

void er_alert_registry_json(er_sb *b, const er_decl *d)
{
    const er_doccheck *c = d->docs;
    if (!c)
        return;
    if (c->substance || c->cites_appendix || c->basel_code[0]) {
        static const char *const app[] = {"", "I", "II", "III"};
        er_sb_json_key(b, "harm");
        er_sb_putc(b, '{');
        if (c->substance) {
            er_sb_json_key(b, "substance");
            er_sb_json_cstr(b, c->substance);
            er_sb_json_key(b, "odp_tonnes");
            er_sb_json_numg(b, c->odp_t, 6);
            er_sb_json_key(b, "co2e_tonnes");
            er_sb_json_numg(b, c->co2e_t, 6);
        }
        if (c->cites_appendix) {
            er_sb_json_key(b, "cites_appendix");
            er_sb_json_cstr(b, app[c->cites_appendix & 3]);
        }
        if (c->basel_code[0]) {
            er_sb_json_key(b, "basel_code");
            er_sb_json_cstr(b, c->basel_code);
            const char *annex = basel_annex(c->basel_code);
            if (annex) {
                er_sb_json_key(b, "basel_annex");
                er_sb_json_cstr(b, annex);
            }
        }
        er_sb_putc(b, '}');
    }
    bool any = false;
    for (int k = 0; k < ER_DOC_KINDS; k++) {
        if (!c->evidence[k] && !(c->state[k] & ~ER_DS_MISSING))
            continue;
        if (!any) {
            er_sb_json_key(b, "documents");
            er_sb_putc(b, '{');
            any = true;
        }
        er_sb_json_key(b, er_dockind_str((er_dockind)k));
        er_sb_putc(b, '{');
        er_sb_json_key(b, "states");
        er_sb_putc(b, '[');
        bool f = true;
        for (unsigned s = 0; s < ER_DS_COUNT; s++)
            if (c->state[k] & (1u << s)) {
                if (!f)
                    er_sb_putc(b, ',');
                f = false;
                er_sb_json_cstr(b, er_docstate_str(s));
            }
        er_sb_putc(b, ']');
        if (c->evidence[k]) {
            er_sb_json_key(b, "evidence");
            er_sb_json_cstr(b, c->evidence[k]);
        }
        er_sb_putc(b, '}');
    }
    if (any)
        er_sb_putc(b, '}');
}

double reg_run_expected_harm(const er_decl *d, double score)
{
    return d->docs && d->docs->substance ? score / 100.0 * d->docs->co2e_t : 0;
}

void reg_run_metrics(const reg_run *rr, er_sb *b)
{
    if (!rr->reg)
        return;
    er_ledger_stats ls;
    er_ledger_stats_get(rr->led, &ls);
    er_sb_puts(b, "# HELP ecorisk_registry_documents Documents in the registries of the last run.\n"
                  "# TYPE ecorisk_registry_documents gauge\n");
    for (int k = 0; k < ER_DOC_KINDS; k++)
        er_sb_printf(b, "ecorisk_registry_documents{kind=\"%s\"} %zu\n", er_dockind_str((er_dockind)k),
                     er_registry_count(rr->reg, (er_dockind)k));
    er_sb_printf(b, "# HELP ecorisk_ledger_entries Ledger records: before the last run (other run keys) and added by it.\n"
                    "# TYPE ecorisk_ledger_entries gauge\n"
                    "ecorisk_ledger_entries{when=\"before\"} %llu\n"
                    "ecorisk_ledger_entries{when=\"this_run\"} %llu\n",
                 (unsigned long long)ls.entries_base, (unsigned long long)ls.entries_run);
    er_sb_puts(b, "# HELP ecorisk_harm_tonnes Tonnes at stake in the last run's ODS/HFC alerts.\n"
                  "# TYPE ecorisk_harm_tonnes gauge\n"
                  "ecorisk_harm_tonnes{unit=\"odp\"} ");
    er_sb_json_numg(b, rr->odp_t, 6);
    er_sb_puts(b, "\necorisk_harm_tonnes{unit=\"co2e\"} ");
    er_sb_json_numg(b, rr->co2e_t, 6);
    er_sb_putc(b, '\n');
}
