/*
 * fuzz_baseline.h — what the two baseline harnesses (fuzz_baseline.c: the
 * JSON file, fuzz_baseline_bin.c: the binary file) do alike with a baseline
 * they loaded: the few declarations whose anomaly features they check (an
 * ordinary one, extreme values, an HS code with no values, an unknown code),
 * and the `baseline show` text of three codes, which must be produced.
 */
#ifndef ECORISK_FUZZ_BASELINE_H
#define ECORISK_FUZZ_BASELINE_H

#include <stdbool.h>

#include "ecorisk/baseline.h"
#include "fuzz_common.h"

/* Declaration i of the fixed set into *d; false past the last one. */
static bool fz_baseline_decl(size_t i, er_decl *d)
{
    static const struct {
        const char *hs, *importer;
        uint16_t o, d;
        double value, net, qty;
        uint32_t present;
    } cases[] = {
        {"010690", "IMP1", ER_CC('T', 'G'), ER_CC('F', 'R'), 800, 12, 40, ER_P_VALUE | ER_P_VALUE_REF | ER_P_NET_KG | ER_P_QUANTITY},
        {"290372", "NEW", ER_CC('C', 'N'), ER_CC('N', 'G'), 1e-9, 1e9, 0, ER_P_VALUE | ER_P_VALUE_REF | ER_P_NET_KG},
        {"3915100000", NULL, 0, 0, 0, 0, 0, 0},
        {"999999", "X", ER_CC('U', 'S'), ER_CC('U', 'S'), 1e300, 1e-300, 1e300, ER_P_VALUE | ER_P_VALUE_REF | ER_P_NET_KG | ER_P_QUANTITY},
    };
    if (i >= sizeof cases / sizeof cases[0])
        return false;
    memset(d, 0, sizeof *d);
    d->id = "F1";
    d->date = 20000;
    snprintf(d->hs, sizeof d->hs, "%s", cases[i].hs);
    d->hs_len = (uint8_t)strlen(d->hs);
    d->importer = cases[i].importer;
    d->origin = d->export_country = cases[i].o;
    d->destination = cases[i].d;
    d->present = cases[i].present;
    d->value = d->value_ref = cases[i].value;
    d->net_kg = d->gross_kg = cases[i].net;
    d->quantity = cases[i].qty;
    return true;
}

/* Each fixed declaration's anomaly features against bl (er_anomaly_compute),
 * handed to check. */
static void fz_baseline_features(const er_baseline *bl,
                                 void (*check)(const er_baseline *bl, const er_decl *d, er_anomalies *an))
{
    er_decl d;
    for (size_t i = 0; fz_baseline_decl(i, &d); i++) {
        er_anomalies an;
        er_anomaly_compute(bl, &d, &an);
        check(bl, &d, &an);
    }
}

/* `baseline show` of a known, a chapter and an unknown code: some text each. */
static void fz_baseline_describe(const er_baseline *bl)
{
    for (int i = 0; i < 3; i++) {
        static const char *const hs[] = {"010690", "29", "9999999999"};
        char *txt = er_baseline_describe(bl, hs[i]);
        FZ_CHECK(txt && *txt);
        free(txt);
    }
}

#endif
