/*
 * inputs.c — loads and frees the inputs of a scoring operation (inputs.h):
 * reference data, mapping, profile packs, baseline, in that order.
 */
#include <string.h>

#include "score/inputs.h"

er_status er_inputs_load(er_inputs *in, const er_inputs_spec *spec, er_err *err)
{
    er_status st;
    memset(in, 0, sizeof *in);
    st = er_refdata_load(&in->ref, spec->reference, err);
    if (st == ER_OK && spec->mapping)
        st = er_mapping_load(&in->map, spec->mapping, err);
    if (st == ER_OK && spec->n_profiles) {
        er_profile_opts po = {.ref = in->ref, .lists_dir = spec->lists_dir, .today = spec->today};
        st = er_profileset_load(&in->ps, spec->profiles, spec->n_profiles, &po, false, err);
    }
    if (st == ER_OK && spec->baseline)
        st = er_baseline_load(&in->bl, spec->baseline, err);
    if (st != ER_OK)
        er_inputs_free(in);
    return st;
}

void er_inputs_free(er_inputs *in)
{
    er_baseline_free(in->bl);
    er_profileset_free(in->ps);
    er_mapping_free(in->map);
    er_refdata_free(in->ref);
    memset(in, 0, sizeof *in);
}
