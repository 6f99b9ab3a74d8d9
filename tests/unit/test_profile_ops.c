/*
 * test_profile_ops.c — the profile operator table (engine/src/profile/
 * profile_ops.c) as an interface: every row has a name, its JSON keys and
 * the functions its kind needs; and every row has a sample here — a
 * condition that compiles to that row, evaluated on one hand-built
 * declaration to the expected truth, with the expected evidence words and
 * the expected `profile show` line. A new row without a sample, or without
 * one of its functions, fails (docs/architecture.md#a-new-profile-operator).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ecorisk/profile.h"
#include "ecorisk/registry.h"
#include "profile/profile_op.h"
#include "tmp_fixture.h"

typedef struct sample {
    const char *when;       /* the condition, JSON */
    bool        truth;      /* on decl() */
    const char *evidence;   /* er_eval_evidence on decl(), as true or as false */
    const char *line;       /* its line in er_profile_describe (indented by 4) */
} sample;

static const sample samples[] = {
    {"{\"all\": [{\"field\": \"hs\", \"prefix\": [\"0301\"]}, {\"field\": \"origin\", \"eq\": \"FR\"}]}", true,
     "hs 030192 in [0301]; origin FR in \"FR\"", "all of:"},
    {"{\"any\": [{\"field\": \"net_kg\", \"gt\": 1000}, {\"field\": \"mode\", \"eq\": \"AIR\"}]}", false,
     "net_kg 100 <= 1000; mode \"SEA\" not in \"AIR\"", "any of:"},
    {"{\"not\": {\"field\": \"importer\", \"in\": [\"ACME\"]}}", false, "importer \"ACME\" in [ACME]", "not:"},
    {"{\"field\": \"hs\", \"prefix_list\": \"eels\"}", true, "hs 030192 in list eels", "hs starts with list eels: 030192 0302"},
    {"{\"field\": \"importer\", \"in\": [\"ACME\", \"BETA\"]}", true, "importer \"ACME\" in [ACME,BETA]",
     "importer in [ACME,BETA]: ACME BETA"},
    {"{\"field\": \"flow\", \"in\": [\"im\", \"TR\"]}", true, "flow \"IM\" in [im,TR]", "flow in [im,TR]: IM TR"},
    {"{\"field\": \"transit\", \"in\": [\"AE\", \"SG\"]}", true, "transit SG in [AE,SG]", "transit overlaps [AE,SG]: AE SG"},
    {"{\"field\": \"description\", \"keywords\": [\"glass eel*\", \"elver\"]}", true,
     "description contains \"glass eels\" ([glass eel*,elver])",
     "description contains a keyword of [glass eel*,elver]: \"glass eel*\" \"elver\""},
    {"{\"field\": \"gross_net_ratio\", \"gt\": 1.5}", false, "gross_net_ratio 1.2 <= 1.5", "gross_net_ratio > 1.5"},
    {"{\"field\": \"net_kg\", \"ge\": 100}", true, "net_kg 100 >= 100", "net_kg >= 100"},
    {"{\"field\": \"unit_value\", \"lt\": 10}", true, "unit_value 5 < 10", "unit_value < 10"},
    {"{\"field\": \"gross_kg\", \"le\": 100}", false, "gross_kg 120 > 100", "gross_kg <= 100"},
    {"{\"field\": \"packages\", \"eq\": 4}", false, "packages not available", "packages = 4"},
    {"{\"field\": \"value_ref\", \"ne\": 500}", false, "value_ref 500 = 500", "value_ref != 500"},
    {"{\"field\": \"net_kg\", \"between\": [50, 150]}", true, "net_kg 100 in [50, 150]", "net_kg between 50 and 150"},
    {"{\"field\": \"extra.permit\", \"exists\": true}", true, "extra.permit present", "extra.permit present"},
    {"{\"route\": {\"from\": [\"FR\", \"ES\"], \"to\": [\"HK\"]}}", true, "route FR>HK matches from [FR,ES] to [HK]",
     "route (origin -> destination) from ES FR; to HK"},
    {"{\"anomaly\": \"unit_value_low\", \"p_below\": 0.01}", true,
     "unit_value_low p=0.001 < 0.01 (observed 5, expected 20..40, hs6 030192)",
     "anomaly unit_value_low with p < 0.01 (no data without a baseline)"},
    {"{\"document\": \"permit\", \"is\": [\"missing\", \"expired\"]}", true, "permit missing|expired",
     "permit document missing|expired (with --registry)"},
};
#define N_SAMPLES (sizeof samples / sizeof *samples)

static er_extra extras[1];
static er_doccheck docs;

static er_decl decl(void)
{
    er_decl d;
    memset(&d, 0, sizeof d);
    d.id = "D1";
    d.flow = ER_FLOW_IM;
    d.mode = ER_MODE_SEA;
    strcpy(d.hs, "030192");
    d.hs_len = 6;
    d.importer = "ACME";
    d.description = "Live GLASS EELS (Anguilla anguilla)";
    d.origin = ER_CC('F', 'R');
    d.export_country = ER_CC('F', 'R');
    d.destination = ER_CC('H', 'K');
    d.transit[0] = ER_CC('S', 'G');
    d.n_transit = 1;
    d.net_kg = 100;
    d.gross_kg = 120;
    d.value_ref = 500;
    d.present = ER_P_NET_KG | ER_P_GROSS_KG | ER_P_VALUE_REF;
    extras[0] = (er_extra){"permit", "FR-24-0012"};
    d.extra = extras;
    d.n_extra = 1;
    memset(&docs, 0, sizeof docs);
    docs.state[ER_DOC_PERMIT] = ER_DS_EXPIRED;
    d.docs = &docs;
    return d;
}

static er_anomalies anomalies(void)
{
    er_anomalies an;
    memset(&an, 0, sizeof an);
    an.have_baseline = true;
    for (int i = 0; i < ER_FEAT_COUNT; i++)
        an.f[i].p = 1;
    an.f[ER_FEAT_UNIT_VALUE_LOW] = (er_feature_value){
        .computable = true, .level = ER_LEVEL_HS6, .group = "030192", .observed = 5,
        .expected_lo = 20, .expected_hi = 40, .p = 0.001};
    return an;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* A pack of one profile whose one indicator is `when`, loaded; NULL with the error in err. */
static er_profileset *load_when(const char *when, er_err *err)
{
    char dir[512], path[1200], lists[600];
    tf_mkdtemp(dir, sizeof dir, "ops");
    snprintf(lists, sizeof lists, "%s/lists", dir);
    ck_assert_int_eq(mkdir(lists, 0700), 0);
    snprintf(path, sizeof path, "%s/eels.txt", lists);
    write_file(path, "# source: test\n# date: 2026-01-01\n030192\n0302\n");
    static char pack[4096];
    ck_assert_int_lt(snprintf(pack, sizeof pack,
                              "{\"format\": \"ecorisk-profiles/1\", \"domain\": \"wildlife\", \"profiles\": [{"
                              "\"id\": \"p\", \"version\": 1, \"title\": \"t\", \"owner\": \"o\", \"references\": [\"r\"],"
                              "\"scope\": {\"field\": \"id\", \"exists\": true}, \"alert_threshold\": 10,"
                              "\"lanes\": {\"red\": 30, \"yellow\": 20, \"blue\": 10},"
                              "\"indicators\": [{\"id\": \"i\", \"weight\": 40, \"reason\": \"r\", \"when\": %s}]}]}",
                              when),
                     (int)sizeof pack);
    snprintf(path, sizeof path, "%s/pack.json", dir);
    write_file(path, pack);
    const char *paths[] = {path};
    er_profile_opts o = {.today = 20454};
    er_profileset *s = NULL;
    er_profileset_load(&s, paths, 1, &o, false, err);
    return s;
}

START_TEST(rows_have_their_functions)
{
    ck_assert_uint_gt(profile_n_ops, 0);
    for (size_t i = 0; i < profile_n_ops; i++) {
        const pop *op = &profile_ops[i];
        ck_assert_msg(op->name && *op->name && op->keys && *op->keys, "row %zu: no name or keys", i);
        ck_assert_msg(op->compile && op->eval && op->describe, "row %zu (%s): compile, eval or describe missing", i,
                      op->name);
        if (!(op->flags & OPF_CHILDREN))
            ck_assert_msg(op->evidence && op->trace, "row %zu (%s): evidence or trace missing", i, op->name);
        if (op->kinds)
            ck_assert_msg(!(op->kinds & ~(unsigned)FK_ANY), "row %zu (%s): unknown field kinds", i, op->name);
        else
            ck_assert_msg(op_form(op->keys) == op, "row %zu (%s): a form is found by its key", i, op->name);
    }
    /* the lint messages are built from the table */
    char buf[256];
    ck_assert_str_eq(op_cond_keys(buf, sizeof buf), "all, any, not, field, route, anomaly or document");
    ck_assert_str_eq(op_field_keys(PF_HS, buf, sizeof buf), "prefix, prefix_list, eq, in, in_list, exists");
    ck_assert_str_eq(op_field_keys(PF_FLOW, buf, sizeof buf), "eq, in, in_list, keywords, keyword_list, exists");
    ck_assert_str_eq(op_field_keys(PF_IMPORTER, buf, sizeof buf), "eq, in, in_list, keywords, keyword_list, exists");
    ck_assert_str_eq(op_field_keys(PF_TRANSIT, buf, sizeof buf), "eq, in, in_list, exists");
    ck_assert_str_eq(op_field_keys(PF_NET_KG, buf, sizeof buf), "gt, ge, lt, le, eq, ne, between, exists");
}
END_TEST

/* Sample i: compiles to its row, evaluates, gives its evidence and its line; returns the row. */
static size_t check_sample(size_t i)
{
    const sample *sm = &samples[i];
    er_err err = {{0}};
    er_profileset *s = load_when(sm->when, &err);
    ck_assert_msg(s, "sample %zu: %s", i, err.msg);
    const cnode *root = &s->nodes[s->prof[0].ind[0].root];
    size_t row = root->op;
    ck_assert_uint_lt(row, profile_n_ops);
    er_decl d = decl();
    er_anomalies an = anomalies();
    er_eval *e = NULL;
    ck_assert_int_eq(er_eval_new(&e, s, &err), ER_OK);
    eval_reset(e, &d, &an);
    ck_assert_msg(pev(e, s->prof[0].ind[0].root) == sm->truth, "sample %zu (%s): expected %s", i,
                  profile_ops[row].name, sm->truth ? "true" : "false");
    char ev[512];
    er_eval_evidence(s, 0, 0, &d, &an, ev, sizeof ev);
    ck_assert_str_eq(ev, sm->evidence);
    char *text = er_profile_describe(s, 0);
    char want[512];
    snprintf(want, sizeof want, "\n    %s\n", sm->line);
    ck_assert_msg(text && strstr(text, want), "sample %zu (%s): no line \"%s\" in:\n%s", i, profile_ops[row].name,
                  sm->line, text ? text : "(null)");
    free(text);
    er_eval_free(e);
    er_profileset_free(s);
    return row;
}

START_TEST(every_row_has_a_sample)
{
    bool covered[256] = {false};
    for (size_t i = 0; i < N_SAMPLES; i++)
        covered[check_sample(i)] = true;
    for (size_t r = 0; r < profile_n_ops; r++)
        ck_assert_msg(covered[r], "operator row %zu (%s, %s) has no sample in test_profile_ops.c", r,
                      profile_ops[r].name, profile_ops[r].keys);
}
END_TEST

/* A field operator the field's kind does not take is refused with the table's choices. */
START_TEST(unknown_operator_lists_the_table)
{
    er_err err = {{0}};
    er_profileset *s = load_when("{\"field\": \"origin\", \"prefix\": [\"01\"]}", &err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err.msg, "profiles[0].indicators[0].when.prefix: unknown operator \"prefix\" for field "
                                  "\"origin\" (expected one of: eq, in, in_list, exists)"),
                  "%s", err.msg);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("profile_ops");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, rows_have_their_functions);
    tcase_add_test(tc, every_row_has_a_sample);
    tcase_add_test(tc, unknown_operator_lists_the_table);
    suite_add_tcase(s, tc);
    return s;
}
