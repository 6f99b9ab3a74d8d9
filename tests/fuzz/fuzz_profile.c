/*
 * fuzz_profile.c — libFuzzer harness for the profile loader (er_profileset_load:
 * JSON parsing, lint, list resolution against the shipped lists, compilation
 * into HS tries, country bitsets and keyword automata). Whatever the pack,
 * lint messages name a file, a JSON path and a message; a pack that loads is
 * then evaluated on a few declarations, with and without anomaly data, and
 * every result must be in range (score 0..100, a lane, fired bits only for
 * existing indicators), with evidence, explain and describe texts produced.
 */
#include <math.h>

#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static er_refdata *ref;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    er_err err = {{0}};
    (void)argc;
    (void)argv;
    if (er_refdata_load(&ref, NULL, &err) != ER_OK) {
        fprintf(stderr, "fuzz init: %s\n", err.msg);
        abort();
    }
    return 0;
}

static er_decl mk(const char *id, const char *hs, const char *desc, uint16_t o, uint16_t dst,
                  double value, double kg)
{
    er_decl d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.date = 20412;
    d.flow = ER_FLOW_IM;
    d.mode = ER_MODE_AIR;
    snprintf(d.hs, sizeof d.hs, "%s", hs);
    d.hs_len = (uint8_t)strlen(hs);
    d.description = desc;
    d.origin = d.export_country = o;
    d.destination = dst;
    d.transit[0] = ER_CC('A', 'E');
    d.n_transit = 1;
    d.importer = "IMP1";
    d.exporter = "EXP1";
    d.declarant = "DEC1";
    d.office = "FRCDG";
    d.unit = "KGM";
    memcpy(d.currency, "USD", 4);
    d.value = d.value_ref = value;
    d.net_kg = kg;
    d.gross_kg = kg * 1.5;
    d.quantity = 3;
    d.packages = 2;
    d.present = ER_P_VALUE | ER_P_VALUE_REF | ER_P_NET_KG | ER_P_GROSS_KG | ER_P_QUANTITY | ER_P_PACKAGES;
    d.line = 2;
    return d;
}

static void evaluate(const er_profileset *s)
{
    static er_extra extra[1] = {{"source_code", "C"}};
    er_decl decls[4] = {
        mk("W1", "050710", "Carved IVORY bone, pangolin scales", ER_CC('N', 'G'), ER_CC('V', 'N'), 50, 120),
        mk("O1", "2903720000", "R-22 refrigerant gas, disposable cylinders", ER_CC('C', 'N'), ER_CC('N', 'G'), 100, 1000),
        mk("X1", "391590", "mixed plastic scrap bales, regrind", ER_CC('D', 'E'), ER_CC('M', 'Y'), 1, 20000),
        mk("E1", "999999", "", 0, 0, 0, 0),
    };
    decls[0].extra = extra;
    decls[0].n_extra = 1;
    decls[3].present = 0;
    decls[3].description = decls[3].importer = NULL;
    er_anomalies an;
    memset(&an, 0, sizeof an);
    an.have_baseline = true;
    for (int f = 0; f < ER_FEAT_COUNT; f++) {
        an.f[f].computable = true;
        an.f[f].level = ER_LEVEL_HS4;
        snprintf(an.f[f].group, sizeof an.f[f].group, "0507");
        an.f[f].p = f == 0 ? 1e-6 : 0.2;
        an.f[f].expected_hi = 1;
        an.n_computable++;
    }

    er_eval *e = NULL;
    FZ_CHECK(er_eval_new(&e, s, NULL) == ER_OK);
    size_t np = er_profileset_count(s);
    for (size_t i = 0; i < 4; i++) {
        for (int with = 0; with < 2; with++) {
            const er_anomalies *a = with ? &an : NULL;
            const er_profile_result *r = NULL;
            size_t n = er_eval_run(e, &decls[i], a, &r);
            FZ_CHECK(n == np);
            for (size_t k = 0; k < n; k++) {
                const er_profile_info *pi = er_profileset_info(s, r[k].profile);
                FZ_CHECK(r[k].profile < np && pi);
                FZ_CHECK(isfinite(r[k].score) && r[k].score >= 0 && r[k].score <= 100);
                FZ_CHECK(r[k].lane < ER_LANE_COUNT);
                FZ_CHECK(pi->n_indicators <= ER_MAX_INDICATORS);
                if (pi->n_indicators < 64)
                    FZ_CHECK((r[k].fired >> pi->n_indicators) == 0);
                for (size_t ind = 0; ind < pi->n_indicators; ind++)
                    if (r[k].fired >> ind & 1) {
                        char buf[512];
                        er_eval_evidence(s, r[k].profile, ind, &decls[i], a, buf, sizeof buf);
                        FZ_CHECK(memchr(buf, '\0', sizeof buf));
                    }
            }
            char *x = er_eval_explain(s, &decls[i], a);
            FZ_CHECK(x && *x);
            free(x);
        }
    }
    for (size_t k = 0; k < np; k++) {
        char *txt = er_profile_describe(s, k);
        FZ_CHECK(txt);
        free(txt);
        const er_profile_info *pi = er_profileset_info(s, k);
        FZ_CHECK(er_profileset_find(s, pi->id) == k);
    }
    FZ_CHECK(strlen(er_profileset_hash(s)) > 0);
    er_eval_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    er_err err = {{0}};
    er_profileset *s = NULL;
    const char *path = fz_write("in.json", data, size);
    er_profile_opts o = {.ref = ref, .lists_dir = ECORISK_SOURCE_DIR "/profiles/lists", .today = 20412};
    er_status st = er_profileset_load(&s, &path, 1, &o, true, &err);
    if (s) {
        const er_lint_msg *m = NULL;
        size_t n = er_profileset_lint(s, &m);
        size_t errors = 0;
        for (size_t i = 0; i < n; i++) {
            FZ_CHECK(m[i].file && m[i].path && m[i].message && *m[i].message);
            errors += m[i].severity == ER_LINT_ERROR;
        }
        if (st == ER_OK) {
            FZ_CHECK(errors == 0);
            evaluate(s);
        } else {
            /* kept on error: ER_EPROFILE, or ER_EPARSE for a file that is not JSON */
            FZ_CHECK((st == ER_EPROFILE || st == ER_EPARSE) && errors > 0);
        }
    } else {
        FZ_CHECK(st != ER_OK && err.msg[0]);
    }
    er_profileset_free(s);
    return 0;
}
