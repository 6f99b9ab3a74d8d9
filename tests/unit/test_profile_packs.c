/*
 * test_profile_packs.c — every shipped profile (profiles/wildlife.json,
 * ods.json, waste.json) against fixture declarations read through the real
 * feed reader (tests/fixtures/profiles/packs.csv): one declaration that must
 * fire it and one near-miss that must not, asserted exactly (in scope,
 * score, lane, alert, random, the indicators that fired), plus the exact set
 * of profiles that alert on each declaration (cross-fires are deliberate and
 * listed). Anomaly results are attached per declaration as the statistics
 * module would produce them.
 */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/feed.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"

#define FIX ECORISK_SOURCE_DIR "/tests/fixtures/profiles/packs.csv"

enum { A_LOW = 1, A_NEW = 2, A_ROUTE = 4, A_MAHA = 8, A_NORMAL = 16 };

static const struct {
    const char *id;
    unsigned    an;
} anomaly_presets[] = {
    {"WL-PANG-1", A_LOW | A_NEW}, {"WL-ROSE-1", A_LOW}, {"WL-REPT-1", A_NEW}, {"WL-MARINE-1", A_LOW},
    {"ODS-HFC-1", A_LOW}, {"ODS-FZ-1", A_ROUTE | A_MAHA}, {"ODS-EQ-1", A_LOW | A_MAHA}, {"ODS-HFO-1", A_LOW},
    {"ODS-BULK-1", A_NEW}, {"WS-EW-1", A_LOW | A_MAHA}, {"WS-POLY-1", A_LOW}, {"WS-PW-1", A_NEW}, {"WS-PA-1", A_LOW},
    {"WS-TYRE-1", A_LOW}, {"WS-BAN-1", A_NEW | A_ROUTE}, {"WS-CRT-1", A_MAHA}, {"WS-MIX-1", A_LOW},
    /* near-misses with a baseline whose features are all unremarkable */
    {"WL-PANG-2", A_NORMAL}, {"ODS-HFC-2", A_NORMAL}, {"WS-EW-2", A_NORMAL}, {"WS-POLY-2", A_NORMAL}, {"WS-PA-2", A_NORMAL},
};

typedef struct expect {
    const char *decl, *profile;
    double      score;
    const char *lane;
    bool        alert;
    const char *fired;   /* indicator ids, comma-separated, in profile order */
} expect;

static const expect expects[] = {
    {"WL-PANG-1", "wl-pangolin-scales", 100, "red", true,
     "range-state,scale-keywords,broad-subheading,asia-destination,transit-hub,undervalued,new-importer,no-cites-document"},
    {"WL-PANG-2", "wl-pangolin-scales", 20, "green", false, "broad-subheading"},
    {"WL-IVORY-1", "wl-ivory", 100, "red", true,
     "range-state,ivory-keywords,asia-destination,transit-hub,air-high-value,cover-from-range-state"},
    {"WL-IVORY-2", "wl-ivory", 0, "green", false, ""},
    {"WL-EEL-1", "wl-glass-eels", 100, "red", true,
     "eu-to-asia,live-eel-code,eel-keywords,by-air,water-weight,juvenile-eel-words,glass-eel-price,no-cites-document"},
    {"WL-EEL-2", "wl-glass-eels", 5, "green", false, "live-eel-code"},
    {"WL-ROSE-1", "wl-rosewood", 100, "red", true,
     "range-state,rosewood-keywords,asia-destination,residual-tropical-code,undervalued,no-cites-document"},
    {"WL-ROSE-2", "wl-rosewood", 0, "green", false, ""},
    {"WL-ROSE-3", "wl-rosewood", 65, "yellow", true, "range-state,furniture-in-log-loads"},
    {"WL-ROSE-4", "wl-rosewood", 25, "green", false, "range-state"},
    {"WL-SHARK-1", "wl-shark-fin", 70, "red", true,
     "fin-code,fin-keywords,asia-destination,high-unit-value,air-or-post,source-country"},
    {"WL-SHARK-2", "wl-shark-fin", 15, "green", false, "asia-destination"},
    {"WL-SHARK-3", "wl-shark-fin", 50, "yellow", true,
     "air-or-post,source-country,fish-by-air-from-source,dried-fish-by-air-from-source"},
    {"WL-REPT-1", "wl-reptiles-as-fish", 100, "red", true,
     "reptile-in-fish-code,dry-fish-shipment,source-country,captive-bred-claim,many-pieces-air-post,new-importer"},
    {"WL-REPT-2", "wl-reptiles-as-fish", 10, "green", false, "many-pieces-air-post"},
    {"WL-SKIN-1", "wl-reptile-skins", 100, "red", true,
     "reptile-no-document,range-state,leather-by-air-from-range-state,transit-hub"},
    {"WL-SKIN-2", "wl-reptile-skins", 0, "green", false, ""},
    {"WL-MARINE-1", "wl-marine-products", 100, "red", true,
     "totoaba-maw,source-country,marine-keywords,asia-destination,undervalued"},
    {"WL-MARINE-2", "wl-marine-products", 40, "blue", false, "marine-keywords,asia-destination"},
    {"ODS-HFC-1", "ods-hcfc-as-hfc", 100, "red", true,
     "ods-keywords,generic-label,price-off-baseline,low-unit-value,free-zone-export,no-quota"},
    {"ODS-HFC-2", "ods-hcfc-as-hfc", 0, "green", false, ""},
    {"ODS-LIC-1", "ods-unlicensed-import", 100, "red", true, "watch-list,no-licence,free-zone-transit"},
    {"ODS-LIC-2", "ods-unlicensed-import", 30, "blue", false, "phased-out-substance"},
    {"ODS-CYL-1", "ods-disposable-cylinders", 80, "red", true, "cylinder-keywords,cylinder-size,many-packages,eu-destination"},
    {"ODS-CYL-2", "ods-disposable-cylinders", 10, "green", false, "eu-destination"},
    {"ODS-FZ-1", "ods-free-zone-transshipment", 85, "red", true,
     "free-zone-transit,re-export-from-free-zone,rare-route,multivariate-outlier,no-container-by-sea"},
    {"ODS-FZ-2", "ods-free-zone-transshipment", 20, "green", false, "free-zone-transit"},
    {"ODS-EQ-1", "ods-in-equipment", 95, "red", true, "ods-charge,used-equipment,undervalued,multivariate-outlier"},
    {"ODS-EQ-2", "ods-in-equipment", 0, "green", false, ""},
    {"ODS-HFO-1", "ods-hfc-as-hfo", 100, "red", true,
     "hfc-keywords,price-off-baseline,low-unit-value,generic-label,free-zone-export,no-quota"},
    {"ODS-HFO-2", "ods-hfc-as-hfo", 15, "green", false, "generic-label"},
    {"ODS-BULK-1", "ods-bulk-refill", 85, "red", true, "empty-cylinders,bulk,bulk-per-package,no-licence,new-importer"},
    {"ODS-BULK-2", "ods-bulk-refill", 0, "green", false, ""},
    {"WS-EW-1", "waste-e-waste-as-used", 100, "red", true,
     "e-waste-keywords,used,basel-ban-route,weak-control-destination,undervalued,multivariate-outlier,"
     "used-without-non-waste-evidence,scrap-price"},
    {"WS-EW-2", "waste-e-waste-as-used", 30, "blue", false, "used,basel-ban-route,weak-control-destination"},
    /* computer parts (8473) are in scope: used parts at a scrap price to a weak-control port */
    {"WS-EW-3", "waste-e-waste-as-used", 80, "red", true,
     "used,basel-ban-route,weak-control-destination,used-without-non-waste-evidence,scrap-price"},
    {"WS-POLY-1", "waste-plastic-as-polymer", 100, "red", true,
     "waste-keywords,restricting-destination,undervalued,very-low-unit-value,oecd-exporter,baled,waste-price"},
    {"WS-POLY-2", "waste-plastic-as-polymer", 25, "green", false, "restricting-destination,oecd-exporter"},
    {"WS-PW-1", "waste-plastic-to-restricting", 100, "red", true,
     "restricting-destination,mixed-unsorted,basel-ban-route,via-restricting-country,new-importer,"
     "not-declared-clean-sorted,mixed-waste-price"},
    {"WS-PW-2", "waste-plastic-to-restricting", 15, "green", false, "restricting-destination"},
    {"WS-PA-1", "waste-plastic-as-articles", 100, "red", true,
     "container-load-to-restricting,waste-keywords,undervalued,transit-hub"},
    {"WS-PA-2", "waste-plastic-as-articles", 0, "green", false, ""},
    {"WS-TYRE-1", "waste-used-tyres", 100, "red", true,
     "new-code-used,bales,undervalued,basel-ban-route,new-code-used-price"},
    {"WS-TYRE-2", "waste-used-tyres", 15, "green", false, "basel-ban-route"},
    {"WS-BAN-1", "waste-basel-ban", 100, "red", true,
     "oecd-to-non-oecd,eu-exporter,weak-control-destination,rare-route,new-importer"},
    {"WS-BAN-2", "waste-basel-ban", 20, "green", false, "eu-exporter"},
    {"WS-CRT-1", "waste-crt-batteries-as-scrap", 85, "red", true,
     "crt-battery-keywords,basel-ban-route,heavy-packages,weak-control-destination,multivariate-outlier"},
    {"WS-CRT-2", "waste-crt-batteries-as-scrap", 25, "green", false, "heavy-packages,weak-control-destination"},
    {"WS-MIX-1", "waste-mixed-bales", 100, "red", true,
     "strong-waste-words,mixed-unsorted,basel-ban-route,undervalued,bale-weight"},
    {"WS-MIX-2", "waste-mixed-bales", 20, "green", false, "mixed-unsorted"},
    {"WS-MIX-3", "waste-mixed-bales", 55, "yellow", true, "demolition-steel,basel-ban-route"},
    {"WS-MIX-4", "waste-mixed-bales", 35, "blue", false, "demolition-steel"},
};

/* Every profile that alerts on each declaration (sorted by profile order in the set). */
static const struct {
    const char *decl, *alerts;
} alerting[] = {
    {"WL-PANG-1", "wl-pangolin-scales,wl-ivory"},
    {"ODS-EQ-1", "ods-in-equipment,waste-e-waste-as-used"},
    {"ODS-BULK-1", "ods-unlicensed-import,ods-bulk-refill"},
    {"WS-POLY-1", "waste-plastic-as-polymer,waste-mixed-bales"},
    {"WS-TYRE-1", "waste-used-tyres,waste-mixed-bales"},
};

static er_refdata *ref;
static er_profileset *set;
static er_eval *ev;
static er_batch *batch;

static void setup(void)
{
    er_err err = {{0}};
    ck_assert_msg(er_refdata_load(&ref, NULL, &err) == ER_OK, "%s", err.msg);
    int32_t today;
    ck_assert_int_eq(er_date_parse("2026-11-25", 10, &today), ER_OK);
    const char *paths[] = {ECORISK_SOURCE_DIR "/profiles/ods.json", ECORISK_SOURCE_DIR "/profiles/waste.json",
                           ECORISK_SOURCE_DIR "/profiles/wildlife.json"};
    er_profile_opts o = {.ref = ref, .today = today};
    ck_assert_msg(er_profileset_load(&set, paths, 3, &o, false, &err) == ER_OK, "%s", err.msg);
    ck_assert_int_eq(er_eval_new(&ev, set, &err), ER_OK);
    er_mapping *m = NULL;
    ck_assert_msg(er_mapping_load(&m, "canonical-csv", &err) == ER_OK, "%s", err.msg);
    er_feed *f = NULL;
    er_feed_opts fo = {.source = FIX, .mapping = m, .ref = ref};
    ck_assert_msg(er_feed_open(&f, &fo, &err) == ER_OK, "%s", err.msg);
    ck_assert_int_eq(er_batch_new(&batch, 256, &err), ER_OK);
    ck_assert_msg(er_feed_next(f, batch, &err) == ER_OK, "%s", err.msg);
    ck_assert_uint_eq(batch->n, 52);
    ck_assert_uint_eq(batch->n_q, 0);
    er_feed_free(f);
    er_mapping_free(m);
}

static void teardown(void)
{
    er_batch_free(batch);
    er_eval_free(ev);
    er_profileset_free(set);
    er_refdata_free(ref);
}

static const er_decl *decl(const char *id)
{
    for (size_t i = 0; i < batch->n; i++)
        if (strcmp(batch->decls[i].id, id) == 0)
            return &batch->decls[i];
    ck_abort_msg("no fixture declaration %s", id);
    return NULL;
}

static const er_anomalies *anomalies(const char *id, er_anomalies *an)
{
    unsigned bits = 0;
    for (size_t i = 0; i < sizeof anomaly_presets / sizeof anomaly_presets[0]; i++)
        if (strcmp(anomaly_presets[i].id, id) == 0)
            bits = anomaly_presets[i].an;
    if (!bits)
        return NULL;
    memset(an, 0, sizeof *an);
    an->have_baseline = true;
    for (int f = 0; f < ER_FEAT_COUNT; f++)
        an->f[f] = (er_feature_value){.computable = true, .level = ER_LEVEL_HS6, .p = 0.5};
    if (bits & A_LOW)
        an->f[ER_FEAT_UNIT_VALUE_LOW].p = 0.0005;
    if (bits & A_NEW)
        an->f[ER_FEAT_NEW_TRADER].p = 0.001;
    if (bits & A_ROUTE)
        an->f[ER_FEAT_ROUTE_RARITY].p = 0.002;
    if (bits & A_MAHA)
        an->f[ER_FEAT_MAHALANOBIS].p = 0.0001;
    return an;
}

static void fired_str(size_t p, uint64_t fired, char *out, size_t cap)
{
    const er_profile_info *in = er_profileset_info(set, p);
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < in->n_indicators; k++)
        if ((fired >> k) & 1u)
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "", in->indicators[k].id);
}

START_TEST(each_profile_fires_and_near_miss_does_not)
{
    size_t covered_hit[64] = {0}, covered_miss[64] = {0};
    for (size_t i = 0; i < sizeof expects / sizeof expects[0]; i++) {
        const expect *x = &expects[i];
        size_t p = er_profileset_find(set, x->profile);
        ck_assert_msg(p != (size_t)-1, "profile %s", x->profile);
        er_anomalies an;
        const er_profile_result *r;
        er_eval_run(ev, decl(x->decl), anomalies(x->decl, &an), &r);
        char got[1024];
        fired_str(p, r[p].fired, got, sizeof got);
        ck_assert_msg(r[p].in_scope, "%s / %s: not in scope", x->decl, x->profile);
        ck_assert_msg(r[p].score == x->score, "%s / %s: score %g, expected %g (fired %s)", x->decl, x->profile,
                      r[p].score, x->score, got);
        ck_assert_msg(strcmp(got, x->fired) == 0, "%s / %s: fired '%s', expected '%s'", x->decl, x->profile, got,
                      x->fired);
        ck_assert_msg(strcmp(er_lane_str((er_lane)r[p].lane), x->lane) == 0, "%s / %s: lane %s, expected %s", x->decl,
                      x->profile, er_lane_str((er_lane)r[p].lane), x->lane);
        ck_assert_msg(r[p].alert == x->alert, "%s / %s: alert %d", x->decl, x->profile, r[p].alert);
        ck_assert_msg(!r[p].random, "%s / %s: selected at random", x->decl, x->profile);
        if (x->alert)
            covered_hit[p]++;
        else
            covered_miss[p]++;
    }
    /* every shipped profile has a hit and a near-miss */
    for (size_t p = 0; p < er_profileset_count(set); p++)
        ck_assert_msg(covered_hit[p] && covered_miss[p], "profile %s lacks a fixture",
                      er_profileset_info(set, p)->id);
}
END_TEST

START_TEST(exact_alerting_sets)
{
    for (size_t i = 0; i < batch->n; i++) {
        const er_decl *d = &batch->decls[i];
        er_anomalies an;
        const er_profile_result *r;
        size_t n = er_eval_run(ev, d, anomalies(d->id, &an), &r);
        char got[1024] = "";
        size_t o = 0;
        for (size_t p = 0; p < n; p++)
            if (r[p].alert)
                o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", o ? "," : "", er_profileset_info(set, p)->id);
        /* expected: the listed set, else the declaration's own profile if it is a hit, else nothing */
        const char *want = NULL;
        for (size_t k = 0; k < sizeof alerting / sizeof alerting[0]; k++)
            if (strcmp(alerting[k].decl, d->id) == 0)
                want = alerting[k].alerts;
        if (!want) {
            want = "";
            for (size_t k = 0; k < sizeof expects / sizeof expects[0]; k++)
                if (strcmp(expects[k].decl, d->id) == 0 && expects[k].alert)
                    want = expects[k].profile;
        }
        ck_assert_msg(strcmp(got, want) == 0, "%s: alerting '%s', expected '%s'", d->id, got, want);
    }
}
END_TEST

START_TEST(evidence_of_shipped_profiles)
{
    char buf[512];
    er_anomalies an;
    size_t p = er_profileset_find(set, "wl-pangolin-scales");
    const er_decl *d = decl("WL-PANG-1");
    er_eval_evidence(set, p, 0, d, anomalies(d->id, &an), buf, sizeof buf);
    ck_assert_str_eq(buf, "origin NG in list pangolin-range-states-africa");
    er_eval_evidence(set, p, 1, d, &an, buf, sizeof buf);
    ck_assert_str_eq(buf, "description contains \"pangolin\" ([pangolin*,manis,scales,trenggiling])");
    er_eval_evidence(set, p, 2, d, &an, buf, sizeof buf);
    ck_assert_str_eq(buf, "hs 050790 in list cites-hs-broad");
    er_eval_evidence(set, p, 5, d, &an, buf, sizeof buf);
    ck_assert_str_eq(buf, "unit_value_low p=0.0005 < 0.01 (observed 0, expected 0..0, hs6 )");
    p = er_profileset_find(set, "waste-e-waste-as-used");
    d = decl("WS-EW-1");
    er_eval_evidence(set, p, 2, d, anomalies(d->id, &an), buf, sizeof buf);
    ck_assert_str_eq(buf, "export_country DE in list oecd-members; destination GH not in list oecd-members");
    p = er_profileset_find(set, "ods-unlicensed-import");
    d = decl("ODS-LIC-1");
    er_eval_evidence(set, p, 1, d, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "importer \"IMP-ODS-0002\" not in list ods-licensed-importers");
    p = er_profileset_find(set, "wl-reptiles-as-fish");
    d = decl("WL-REPT-1");
    er_eval_evidence(set, p, 4, d, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "extra.cites_source \"C\" in [C,D,F]");
    p = er_profileset_find(set, "wl-glass-eels");
    d = decl("WL-EEL-1");
    er_eval_evidence(set, p, 0, d, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "route FR>HK matches from list eel-range-states to list wildlife-asia-destinations; "
                          "extra.cites_permit absent; description has no keyword of [cites permit*,cites certificate*,"
                          "cites export permit*,cites document*,cites no,permit no]");
}
END_TEST

START_TEST(without_baseline_anomaly_indicators_never_fire)
{
    for (size_t i = 0; i < batch->n; i++) {
        const er_profile_result *r;
        size_t n = er_eval_run(ev, &batch->decls[i], NULL, &r);
        for (size_t p = 0; p < n; p++) {
            const er_profile_info *in = er_profileset_info(set, p);
            for (size_t k = 0; k < in->n_indicators; k++)
                if (in->indicators[k].is_anomaly)
                    ck_assert_msg(!((r[p].fired >> k) & 1u), "%s fired %s without a baseline", batch->decls[i].id,
                                  in->indicators[k].id);
        }
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("profile_packs");
    TCase *tc = tcase_create("packs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, each_profile_fires_and_near_miss_does_not);
    tcase_add_test(tc, exact_alerting_sets);
    tcase_add_test(tc, evidence_of_shipped_profiles);
    tcase_add_test(tc, without_baseline_anomaly_indicators_never_fire);
    suite_add_tcase(s, tc);
    return s;
}
