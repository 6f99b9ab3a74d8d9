/*
 * test_registry.c — the registry module (registry.h): substance harm figures
 * hand-computed from the Montreal Protocol table, registry file errors, the
 * check pass (states, evidence, a quantity spread over two permits), and the
 * ledger's run keys (a key's own entries are not its starting balance; a
 * declaration recorded under another key is not consumed again), show and
 * reset.
 */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "ecorisk/registry.h"
#include "tmp_fixture.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static er_registry *load(const char *dir)
{
    er_registry *r = NULL;
    er_err err = {{0}};
    er_status st = er_registry_load(&r, dir, ECORISK_SOURCE_DIR "/feeds/reference", &err);
    ck_assert_msg(st == ER_OK, "%s", err.msg);
    return r;
}

static const char *permits_csv =
    "# test permits\n"
    "number,type,issuing_country,exporter,importer,taxon,appendix,hs,quantity,unit,valid_from,valid_until\n"
    "P1,export,FR,Exp SARL,Imp Ltd,Anguilla anguilla,II,0301,10,kg,2026-01-01,2026-12-31\n"
    "P2,export,FR,Exp SARL,Imp Ltd,Anguilla anguilla,II,0301,10,kg,2026-01-01,2026-12-31\n"
    "\"P,3\",export,FR,,,,I,,5,pcs,,2026-01-31\n";

START_TEST(harm_figures)
{
    char dir[1024];
    tf_mkdtemp(dir, sizeof dir, "reg");
    write_file(dir, "cites-permits.csv", permits_csv);
    er_registry *r = load(dir);
    double odp, co2e;
    const char *name;
    ck_assert(er_registry_harm(r, "CFC-12", 1000, &odp, &co2e, &name));
    ck_assert_double_eq_tol(odp, 1.0, 1e-12);
    ck_assert_double_eq_tol(co2e, 10900, 1e-9);
    ck_assert(er_registry_harm(r, "R-22", 2000, &odp, &co2e, &name));   /* refrigerant number → HCFC-22 */
    ck_assert_str_eq(name, "HCFC-22");
    ck_assert_double_eq_tol(odp, 0.11, 1e-12);                           /* 2 t × 0.055 */
    ck_assert_double_eq_tol(co2e, 3620, 1e-9);                           /* 2 t × 1810 */
    ck_assert(er_registry_harm(r, "hfc32", 1000, &odp, &co2e, &name));
    ck_assert_double_eq_tol(odp, 0, 1e-12);
    ck_assert_double_eq_tol(co2e, 675, 1e-9);
    ck_assert(er_registry_harm(r, "HCFC-141", 1000, &odp, &co2e, &name)); /* range 0.005-0.07: upper value */
    ck_assert_double_eq_tol(odp, 0.07, 1e-12);
    ck_assert(!er_registry_harm(r, "nitrogen", 1000, &odp, &co2e, &name));
    ck_assert_uint_eq(er_registry_count(r, ER_DOC_PERMIT), 3);
    double lim;
    const char *unit;
    ck_assert(er_registry_limit(r, ER_DOC_PERMIT, "P,3", 0, &lim, &unit));
    ck_assert_double_eq(lim, 5);
    ck_assert_str_eq(unit, "pcs");
    er_registry_free(r);
}
END_TEST

static void expect_error(const char *file, const char *text, const char *msg)
{
    char dir[1024];
    er_registry *r = NULL;
    er_err err = {{0}};
    tf_mkdtemp(dir, sizeof dir, "bad");
    write_file(dir, file, text);
    ck_assert_int_ne(er_registry_load(&r, dir, ECORISK_SOURCE_DIR "/feeds/reference", &err), ER_OK);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.msg, msg), "got '%s', want '%s'", err.msg, msg);
}

START_TEST(registry_errors)
{
    expect_error("cites-permits.csv", "number,quantity\nP1,3\n", "missing column 'unit'");
    expect_error("cites-permits.csv", "number,quantity,unit\nP1,3,kg\nP1,4,kg\n", ":3: document 'P1' listed twice");
    expect_error("cites-permits.csv", "number,quantity,unit,appendix\nP1,3,kg,IV\n", ":2: appendix: 'IV' is not I, II or III");
    expect_error("cites-permits.csv", "number,quantity,unit\nP1,-3,kg\n", "quantity: '-3' is not a non-negative number");
    expect_error("cites-permits.csv", "number,quantity,unit\n\"P1,3,kg\n", "unterminated quoted field");
    expect_error("ods-licences.csv", "number,year,quantity_kg,substance\nL1,2026,5,water\n",
                 "substance: 'water' is not a controlled substance");
    expect_error("ods-licences.csv", "number,year,quantity_kg,flow\nL1,2026,5,TR\n", "flow: 'TR' is not IM or EX");
    expect_error("basel-consents.csv", "number,quantity_kg,transit\nC1,5,BEL\n", "transit: 'BEL'");
    expect_error("other.csv", "x\n", "no registry");
}
END_TEST

static er_decl *decl(er_batch *b, const char *id, const char *permits, double net_kg)
{
    er_decl *d = er_batch_push(b);
    ck_assert_ptr_nonnull(d);
    d->id = id;
    ck_assert_int_eq(er_date_parse("2026-03-01", 10, &d->date), ER_OK);
    strcpy(d->hs, "030192");
    d->hs_len = 6;
    d->flow = ER_FLOW_EX;
    d->export_country = ER_CC('F', 'R');
    d->exporter = "EXP sarl";
    d->permits = permits;
    d->net_kg = net_kg;
    d->present = ER_P_NET_KG;
    return d;
}

START_TEST(check_and_ledger)
{
    char dir[1024], led[1100];
    tf_mkdtemp(dir, sizeof dir, "reg");
    write_file(dir, "cites-permits.csv", permits_csv);
    snprintf(led, sizeof led, "%s/ledger", dir);
    er_registry *r = load(dir);
    er_err err = {{0}};
    er_batch *b = NULL;
    er_ledger *l = NULL;
    ck_assert_int_eq(er_batch_new(&b, 16, &err), ER_OK);

    /* key A: 15 kg over P1 (10 kg) and P2 (10 kg): P1 is filled, P2 takes the rest */
    ck_assert_int_eq(er_ledger_open(&l, led, "2026-03-01-a", &err), ER_OK);
    decl(b, "A1", "P1; P2", 15);
    decl(b, "A2", "P2", 6);                       /* 5 + 6 > 10: exceeded */
    decl(b, "A3", "P9", 1)->export_country = ER_CC('E', 'S');
    decl(b, "A4", NULL, 1);
    decl(b, "A5", "P,3", 1)->present = 0;          /* counted in pieces, none declared; expired */
    ck_assert_int_eq(er_ledger_check_batch(l, r, b, &err), ER_OK);
    const er_doccheck *c = b->decls[0].docs;
    ck_assert_uint_eq(c->state[ER_DOC_PERMIT], 0);
    ck_assert_str_eq(c->evidence[ER_DOC_PERMIT], "permit P1: 0 of 10 kg already used; this declaration adds 10 kg; "
                                                 "permit P2: 0 of 10 kg already used; this declaration adds 5 kg");
    ck_assert_uint_eq(c->state[ER_DOC_LICENCE], ER_DS_MISSING);
    ck_assert_uint_eq(c->cites_appendix, 2);
    c = b->decls[1].docs;
    ck_assert_uint_eq(c->state[ER_DOC_PERMIT], ER_DS_EXCEEDED);
    ck_assert_str_eq(c->evidence[ER_DOC_PERMIT], "permit P2: 5 of 10 kg already used; this declaration adds 6 kg");
    ck_assert_uint_eq(b->decls[2].docs->state[ER_DOC_PERMIT], ER_DS_UNKNOWN);
    ck_assert_uint_eq(b->decls[3].docs->state[ER_DOC_PERMIT], ER_DS_MISSING);
    c = b->decls[4].docs;
    ck_assert_uint_eq(c->state[ER_DOC_PERMIT], ER_DS_EXPIRED);
    ck_assert_str_eq(c->evidence[ER_DOC_PERMIT],
                     "permit P,3: 0 of 5 pcs already used; this declaration declares no quantity (expired 2026-01-31)");
    ck_assert_int_eq(er_ledger_commit(l, &err), ER_OK);
    er_ledger_free(l);

    /* key B: the balance is A's (P1 10 kg, P2 11 kg); A2 again is not consumed twice */
    er_batch_reset(b);
    ck_assert_int_eq(er_ledger_open(&l, led, "2026-03-02-b", &err), ER_OK);
    decl(b, "B1", "P1", 1);
    decl(b, "A2", "P2", 6);
    ck_assert_int_eq(er_ledger_check_batch(l, r, b, &err), ER_OK);
    ck_assert_uint_eq(b->decls[0].docs->state[ER_DOC_PERMIT], ER_DS_EXHAUSTED | ER_DS_EXCEEDED);
    ck_assert_str_eq(b->decls[1].docs->evidence[ER_DOC_PERMIT],
                     "permit P2: 5 of 10 kg already used; this declaration adds 6 kg");
    er_ledger_stats ls;
    er_ledger_stats_get(l, &ls);
    ck_assert_uint_eq(ls.entries_base, 4);   /* A1 twice, A2, A5 */
    ck_assert_uint_eq(ls.entries_run, 1);
    ck_assert_uint_eq(ls.already_counted, 1);
    /* a second open while B holds the lock */
    er_ledger *l2 = NULL;
    ck_assert_int_eq(er_ledger_open(&l2, led, "2026-03-02-c", &err), ER_EPENDING);
    ck_assert_int_eq(er_ledger_commit(l, &err), ER_OK);
    er_ledger_free(l);

    /* key A again: its own entries are not its balance */
    er_batch_reset(b);
    ck_assert_int_eq(er_ledger_open(&l, led, "2026-03-01-a", &err), ER_OK);
    decl(b, "A1", "P1", 4);
    ck_assert_int_eq(er_ledger_check_batch(l, r, b, &err), ER_OK);
    ck_assert_str_eq(b->decls[0].docs->evidence[ER_DOC_PERMIT],
                     "permit P1: 1 of 10 kg already used; this declaration adds 4 kg");
    er_ledger_free(l);   /* not committed: the old A file stays */

    char *text = NULL;
    ck_assert_int_eq(er_ledger_show(led, r, &text, &err), ER_OK);
    ck_assert_str_eq(text, "kind\tnumber\tyear\tused\tunit\tlimit\tremaining\tdeclarations\n"
                           "permit\tP,3\t0\t0\tpcs\t5\t5\t1\n"
                           "permit\tP1\t0\t11\tkg\t10\t-1\t2\n"
                           "permit\tP2\t0\t11\tkg\t10\t-1\t2\n");
    free(text);
    size_t removed;
    ck_assert_int_eq(er_ledger_reset_year(led, 2025, &removed, &err), ER_OK);
    ck_assert_uint_eq(removed, 0);
    ck_assert_int_eq(er_ledger_reset_year(led, 2026, &removed, &err), ER_OK);
    ck_assert_uint_eq(removed, 2);
    ck_assert_int_eq(er_ledger_show(led, NULL, &text, &err), ER_OK);
    ck_assert_str_eq(text, "kind\tnumber\tyear\tused\tunit\tlimit\tremaining\tdeclarations\n");
    free(text);

    /* a damaged run file is an error naming it */
    char runs[1200];
    snprintf(runs, sizeof runs, "%s/runs", led);
    write_file(runs, "2026-03-05-x.tsv", "# ecorisk-ledger/1 key=2026-03-05-x\nA1\t0\tP1\t0\t3\n");
    ck_assert_int_eq(er_ledger_show(led, NULL, &text, &err), ER_EFORMAT);
    ck_assert_msg(strstr(err.msg, "2026-03-05-x.tsv: no end line"), "%s", err.msg);
    er_batch_free(b);
    er_registry_free(r);
}
END_TEST


static const char *pack =
    "{\"domain\": \"ods\", \"profiles\": [{\"id\": \"doc\", \"version\": 1, \"title\": \"t\", \"owner\": \"o\",\n"
    " \"references\": [\"r\"], \"scope\": {\"field\": \"hs\", \"prefix\": [\"2903\"]},\n"
    " \"indicators\": [\n"
    "  {\"id\": \"none\", \"weight\": 60, \"reason\": \"r\", \"when\": {\"document\": \"licence\", \"is\": \"missing\"}},\n"
    "  {\"id\": \"over\", \"weight\": 70, \"reason\": \"r\", \"when\": {\"document\": \"licence\", \"is\": [\"exhausted\", \"exceeded\"]}},\n"
    "  {\"id\": \"bad\", \"weight\": 10, \"reason\": \"r\", \"when\": {\"not\": {\"document\": \"permit\", \"is\": \"missing\"}}}],\n"
    " \"alert_threshold\": 50, \"lanes\": {\"red\": 80, \"yellow\": 60, \"blue\": 40}}]}\n";

static er_profileset *load_pack(const char *dir, const char *text, er_refdata *ref, er_status want)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/pack.json", dir);
    write_file(dir, "pack.json", text);
    const char *paths[] = {p};
    er_profile_opts o = {.ref = ref};
    er_profileset *s = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_profileset_load(&s, paths, 1, &o, true, &err), want);
    return s;
}

START_TEST(document_predicate)
{
    char dir[1024];
    er_refdata *ref = NULL;
    er_err err = {{0}};
    tf_mkdtemp(dir, sizeof dir, "pred");
    ck_assert_int_eq(er_refdata_load(&ref, NULL, &err), ER_OK);
    er_profileset *s = load_pack(dir, pack, ref, ER_OK);
    er_eval *e = NULL;
    ck_assert_int_eq(er_eval_new(&e, s, &err), ER_OK);
    er_decl d;
    memset(&d, 0, sizeof d);
    d.id = "X";
    strcpy(d.hs, "290371");
    d.hs_len = 6;
    const er_profile_result *r;
    er_eval_run(e, &d, NULL, &r);   /* no registries: no data, false — and "not" of it true */
    ck_assert(r[0].in_scope);
    ck_assert_uint_eq(r[0].fired, 4);
    char ev[256];
    er_eval_evidence(s, 0, 0, &d, NULL, ev, sizeof ev);
    ck_assert_str_eq(ev, "licence: no data (no registries)");

    er_doccheck c;
    memset(&c, 0, sizeof c);
    c.state[ER_DOC_LICENCE] = ER_DS_EXCEEDED;
    c.state[ER_DOC_PERMIT] = ER_DS_MISSING;
    c.evidence[ER_DOC_LICENCE] = "licence L: 90 of 100 kg already used; this declaration adds 20 kg";
    d.docs = &c;
    er_eval_run(e, &d, NULL, &r);
    ck_assert_uint_eq(r[0].fired, 2);
    ck_assert_double_eq(r[0].score, 70);
    ck_assert(r[0].alert);
    er_eval_evidence(s, 0, 1, &d, NULL, ev, sizeof ev);
    ck_assert_str_eq(ev, c.evidence[ER_DOC_LICENCE]);
    c.state[ER_DOC_LICENCE] = ER_DS_MISSING;
    c.evidence[ER_DOC_LICENCE] = NULL;
    c.state[ER_DOC_PERMIT] = ER_DS_UNKNOWN;
    er_eval_run(e, &d, NULL, &r);
    ck_assert_uint_eq(r[0].fired, 1 | 4);
    er_eval_evidence(s, 0, 0, &d, NULL, ev, sizeof ev);
    ck_assert_str_eq(ev, "no licence cited");
    char *x = er_eval_explain(s, &d, NULL);
    ck_assert_ptr_nonnull(strstr(x, "\"op\":\"document\""));
    ck_assert_ptr_nonnull(strstr(x, "\"value\":\"unknown\""));
    free(x);
    x = er_profile_describe(s, 0);
    ck_assert_ptr_nonnull(strstr(x, "licence document exhausted|exceeded (with --registry)"));
    free(x);
    er_eval_free(e);
    er_profileset_free(s);

    /* lint: the kind and the states are checked, with the JSON path */
    static const struct { const char *from, *to, *msg; } bad[] = {
        {"\"document\": \"licence\", \"is\": \"missing\"", "\"document\": \"visa\", \"is\": \"missing\"",
         "expected permit, licence or consent, got visa"},
        {"\"is\": [\"exhausted\", \"exceeded\"]", "\"is\": [\"exhausted\", \"lost\"]",
         "expected a state (missing, unknown, expired, mismatch, exhausted or exceeded) or an array of states, got lost"},
        {"\"is\": [\"exhausted\", \"exceeded\"]", "\"is\": []", "expected at least one state"},
        {"\"is\": [\"exhausted\", \"exceeded\"]", "\"is\": [\"exceeded\"], \"when\": 1", "unknown field \"when\" (expected one of: document, is)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[4096];
        const char *at = strstr(pack, bad[i].from);
        ck_assert_ptr_nonnull(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - pack), pack, bad[i].to, at + strlen(bad[i].from));
        s = load_pack(dir, text, ref, ER_EPROFILE);
        const er_lint_msg *m;
        size_t n = er_profileset_lint(s, &m), k = 0;
        while (k < n && !strstr(m[k].message, bad[i].msg))
            k++;
        ck_assert_msg(k < n, "no lint message '%s' (first: %s)", bad[i].msg, n ? m[0].message : "none");
        ck_assert_ptr_nonnull(strstr(m[k].path, "indicators["));
        er_profileset_free(s);
    }
    er_refdata_free(ref);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *t = tcase_create("registry");
    tcase_add_test(t, harm_figures);
    tcase_add_test(t, registry_errors);
    tcase_add_test(t, check_and_ledger);
    tcase_add_test(t, document_predicate);
    suite_add_tcase(s, t);
    return s;
}
