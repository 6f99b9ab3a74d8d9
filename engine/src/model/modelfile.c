/*
 * modelfile.c — the model file of the learned model (docs/scoring.md,
 * "Model file"): one JSON document with the identity (ecorisk and XGBoost
 * versions, profile set and baseline ids), the feature list, the training
 * and validation summary, the historical rate tables (hashed categories,
 * sorted) and the XGBoost model as a JSON string. Also loading, binding a
 * loaded model to a run's profile set and baseline, feature rows and the
 * words an analyst reads for a feature.
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "model/model_int.h"

static int cmp_slot(const void *a, const void *b)
{
    uint64_t x = ((const rate_slot *)a)->key, y = ((const rate_slot *)b)->key;
    return x < y ? -1 : x > y;
}

static void str_list(er_sb *b, const char *key, char *const *v, size_t n)
{
    er_sb_json_key(b, key);
    er_sb_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            er_sb_putc(b, ',');
        er_sb_json_cstr(b, v[i]);
    }
    er_sb_putc(b, ']');
}

er_status model_rate_cols(er_model *m, er_err *err)
{
    free(m->rate_col);
    if (!(m->rate_col = malloc((m->lay.n_kinds ? m->lay.n_kinds : 1) * sizeof *m->rate_col)))
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t k = 0; k < m->lay.n_kinds; k++) {
        m->rate_col[k] = -1;
        for (size_t j = 0; j + 1 < m->nf; j++)
            if (m->col[j] == m->lay.first_rate + 2 * k && m->col[j + 1] == m->col[j] + 1)
                m->rate_col[k] = (long)j;
    }
    return ER_OK;
}

er_status modelfile_write(er_model *m, const char *path, const char *training_json, er_err *err)
{
    er_status st = ER_OK;
    er_sb b = {0};
    rate_slot *sl = NULL;
    FILE *f = NULL;
    char hex[65];

    er_sb_puts(&b, "\"ecorisk_version\":");
    er_sb_json_cstr(&b, m->ecorisk_version);
    er_sb_puts(&b, ",\n\"xgboost_version\":");
    er_sb_json_cstr(&b, m->xgb_version);
    er_sb_puts(&b, ",\n\"profile_set\":");
    er_sb_json_cstr(&b, m->profile_set);
    er_sb_putc(&b, '\n');
    str_list(&b, "profiles", m->profile_ids, m->n_profiles);
    er_sb_puts(&b, ",\n\"baseline_id\":");
    er_sb_json_cstr(&b, m->baseline_id);
    er_sb_puts(&b, ",\n\"extras\":{");
    str_list(&b, "numeric", m->extra_num, m->n_extra_num);
    str_list(&b, "category", m->extra_cat, m->n_extra_cat);
    er_sb_printf(&b, "},\n\"training\":%s,\n\"validation\":%s\n", training_json, m->validation);
    er_sb_json_key(&b, "features");
    er_sb_putc(&b, '[');
    for (size_t j = 0; j < m->nf; j++) {
        er_sb_puts(&b, j ? ",\n " : "\n ");
        er_sb_json_cstr(&b, m->lay.names[m->col[j]]);
    }
    er_sb_puts(&b, "],\n\"prior\":");
    er_sb_json_num(&b, m->prior);
    er_sb_puts(&b, ",\n\"smoothing\":");
    er_sb_json_num(&b, m->smoothing);
    er_sb_puts(&b, ",\n\"rates\":[");
    size_t ns = 0;
    if (!(sl = malloc((m->rates.used ? m->rates.used : 1) * sizeof *sl))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < m->rates.cap; i++)
        if (m->rates.s[i].key)
            sl[ns++] = m->rates.s[i];
    qsort(sl, ns, sizeof *sl, cmp_slot);
    for (size_t i = 0; i < ns; i++)
        er_sb_printf(&b, "%s\"%016llx\",%u,%u", i ? (i % 4 ? "," : ",\n") : "\n", (unsigned long long)sl[i].key,
                     sl[i].n, sl[i].pos);
    er_sb_puts(&b, "],\n\"booster\":");
    er_sb_json_str(&b, m->booster, m->booster_len);
    er_sb_puts(&b, "\n}\n");
    if (b.oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = er_sha256_hex(b.p, b.len, hex, err)) != ER_OK)
        goto cleanup;
    free(m->id);
    if (!(m->id = strdup(hex))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (!(f = fopen(path, "w"))) {
        st = er_errf(err, ER_EIO, "%s: cannot create: %s", path, strerror(errno));
        goto cleanup;
    }
    bool ok = fprintf(f, "{\"format\":%d,\"kind\":\"ecorisk-model\",\"id\":\"%s\",\n", ER_MODEL_FORMAT, hex) > 0 &&
              fwrite(b.p, 1, b.len, f) == b.len;
    ok = fclose(f) == 0 && ok;
    f = NULL;
    if (!ok)
        st = er_errf(err, ER_EIO, "%s: write failed: %s", path, strerror(errno));
cleanup:
    if (f)
        fclose(f);
    free(sl);
    er_sb_free(&b);
    return st;
}

/* ---- loading ---- */

static er_status read_all(const char *path, char **out, size_t *len, er_err *err)
{
    FILE *f = fopen(path, "rb");
    er_sb b = {0};
    char buf[65536];
    size_t n;
    if (!f)
        return er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: %s", path, strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        er_sb_put(&b, buf, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad || b.oom) {
        er_sb_free(&b);
        return er_errf(err, bad ? ER_EIO : ER_ENOMEM, "%s: %s", path, bad ? "read failed" : "out of memory reading it");
    }
    *out = b.p;
    *len = b.len;
    return ER_OK;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static er_status get_list(json_object *o, const char *key, char ***out, size_t *n, const char *path, er_err *err)
{
    json_object *a;
    if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
        return er_errf(err, ER_EFORMAT, "%s: %s: expected an array of strings", path, key);
    size_t k = json_object_array_length(a);
    if (!(*out = calloc(k ? k : 1, sizeof **out)))
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (*n = 0; *n < k; (*n)++) {
        json_object *s = json_object_array_get_idx(a, *n);
        if (!json_object_is_type(s, json_type_string))
            return er_errf(err, ER_EFORMAT, "%s: %s[%zu]: expected a string", path, key, *n);
        if (!((*out)[*n] = strdup(json_object_get_string(s))))
            return er_errf(err, ER_ENOMEM, "out of memory");
    }
    return ER_OK;
}

static er_status load_rates(er_model *m, json_object *root, const char *path, er_err *err)
{
    json_object *a;
    if (!json_object_object_get_ex(root, "rates", &a) || !json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) % 3)
        return er_errf(err, ER_EFORMAT, "%s: rates: expected an array of [key, n, positives] triples", path);
    size_t k = json_object_array_length(a);
    for (size_t i = 0; i < k; i += 3) {
        const char *key = json_object_get_string(json_object_array_get_idx(a, i));
        char *end;
        errno = 0;
        unsigned long long h = key ? strtoull(key, &end, 16) : 0;
        int64_t n = json_object_get_int64(json_object_array_get_idx(a, i + 1));
        int64_t p = json_object_get_int64(json_object_array_get_idx(a, i + 2));
        if (!key || *end || errno || !h || n < 0 || p < 0 || p > n || n > UINT32_MAX)
            return er_errf(err, ER_EFORMAT, "%s: rates[%zu]: expected a hex key and counts 0 <= positives <= n",
                           path, i / 3);
        if (!rate_add(&m->rates, h, (uint32_t)n, (uint32_t)p))
            return er_errf(err, ER_ENOMEM, "out of memory");
    }
    return ER_OK;
}

er_status er_model_load(er_model **out, const char *path, er_err *err)
{
    er_status st = ER_OK;
    char *txt = NULL;
    size_t len = 0;
    json_object *root = NULL, *v;
    json_tokener *tok = NULL;
    er_model *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return er_errf(err, ER_ENOMEM, "out of memory");
    if ((st = read_all(path, &txt, &len, err)) != ER_OK)
        goto cleanup;
    if (!(tok = json_tokener_new_ex(64))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    root = json_tokener_parse_ex(tok, txt, (int)(len > 0x7fffffff ? 0x7fffffff : len));
    if (!root || !json_object_is_type(root, json_type_object)) {
        st = er_errf(err, ER_EPARSE, "%s: not a JSON model file (%s)", path,
                     json_tokener_error_desc(json_tokener_get_error(tok)));
        goto cleanup;
    }
    const char *kind = get_str(root, "kind");
    if (!kind || strcmp(kind, "ecorisk-model") != 0) {
        st = er_errf(err, ER_EFORMAT, "%s: kind: expected \"ecorisk-model\"", path);
        goto cleanup;
    }
    if (!json_object_object_get_ex(root, "format", &v) || json_object_get_int(v) != ER_MODEL_FORMAT) {
        st = er_errf(err, ER_EVERSION, "%s: format: expected %d", path, ER_MODEL_FORMAT);
        goto cleanup;
    }
    const char *keys[] = {"id", "ecorisk_version", "xgboost_version", "profile_set", "baseline_id", "booster"};
    char **dst[] = {&m->id, &m->ecorisk_version, &m->xgb_version, &m->profile_set, &m->baseline_id, &m->booster};
    for (size_t i = 0; i < 6; i++) {
        const char *s = get_str(root, keys[i]);
        if (!s) {
            st = er_errf(err, ER_EFORMAT, "%s: %s: expected a string", path, keys[i]);
            goto cleanup;
        }
        if (!(*dst[i] = strdup(s))) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    m->booster_len = strlen(m->booster);
    json_object *ex = NULL, *val = NULL;
    if (!json_object_object_get_ex(root, "extras", &ex) || !json_object_object_get_ex(root, "validation", &val)) {
        st = er_errf(err, ER_EFORMAT, "%s: extras and validation: expected objects", path);
        goto cleanup;
    }
    size_t nf = 0;
    if ((st = get_list(root, "profiles", &m->profile_ids, &m->n_profiles, path, err)) != ER_OK ||
        (st = get_list(ex, "numeric", &m->extra_num, &m->n_extra_num, path, err)) != ER_OK ||
        (st = get_list(ex, "category", &m->extra_cat, &m->n_extra_cat, path, err)) != ER_OK ||
        (st = get_list(root, "features", &m->feat_names, &nf, path, err)) != ER_OK ||
        (st = load_rates(m, root, path, err)) != ER_OK)
        goto cleanup;
    m->nf = nf;
    m->validation = strdup(json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
    json_object *pr, *sm;
    if (!json_object_object_get_ex(root, "prior", &pr) || !json_object_object_get_ex(root, "smoothing", &sm)) {
        st = er_errf(err, ER_EFORMAT, "%s: prior and smoothing: expected numbers", path);
        goto cleanup;
    }
    m->prior = json_object_get_double(pr);
    m->smoothing = json_object_get_double(sm);
    if (!m->validation) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    *out = m;
    m = NULL;
cleanup:
    er_model_free(m);
    if (root)
        json_object_put(root);
    if (tok)
        json_tokener_free(tok);
    free(txt);
    return st;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void er_model_free(er_model *m)
{
    if (!m)
        return;
    free(m->profile_set);
    free(m->baseline_id);
    free(m->ecorisk_version);
    free(m->xgb_version);
    free(m->id);
    free_list(m->profile_ids, m->n_profiles);
    free_list(m->extra_num, m->n_extra_num);
    free_list(m->extra_cat, m->n_extra_cat);
    free_list(m->feat_names, m->feat_names ? m->nf : 0);
    layout_free(&m->lay);
    free(m->col);
    free(m->rate_col);
    rate_free(&m->rates);
    free(m->booster);
    free(m->validation);
    free(m);
}

er_status er_model_bind(er_model *m, const er_profileset *ps, const er_baseline *bl, er_err *err)
{
    const char *ph = er_profileset_hash(ps), *bid = bl ? er_baseline_id(bl) : "";
    if (strcmp(ph, m->profile_set) != 0)
        return er_errf(err, ER_EFORMAT, "model %.16s was trained with profile set %s; this run loads profile set %s "
                       "(load the same packs, or learn a model for these)", m->id, m->profile_set, ph);
    if (strcmp(bid, m->baseline_id) != 0)
        return er_errf(err, ER_EFORMAT, "model %.16s was trained with baseline %s; this run loads baseline %s "
                       "(use the same baseline, or learn a model for this one)", m->id,
                       *m->baseline_id ? m->baseline_id : "(none)", *bid ? bid : "(none)");
    if (m->bound)
        return ER_OK;
    er_status st = layout_build(&m->lay, ps, m->extra_num, m->n_extra_num, m->extra_cat, m->n_extra_cat, err);
    if (st != ER_OK)
        return st;
    if (!(m->col = calloc(m->nf ? m->nf : 1, sizeof *m->col)))
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t j = 0; j < m->nf; j++) {
        size_t c = 0;
        while (c < m->lay.n && strcmp(m->lay.names[c], m->feat_names[j]) != 0)
            c++;
        if (c == m->lay.n)
            return er_errf(err, ER_EFORMAT, "model %.16s: feature %s is not computed by this ecorisk", m->id,
                           m->feat_names[j]);
        m->col[j] = c;
    }
    if ((st = model_rate_cols(m, err)) != ER_OK)
        return st;
    m->bound = true;
    return ER_OK;
}

size_t er_model_n_features(const er_model *m)
{
    return m->nf;
}

const char *er_model_feature_name(const er_model *m, size_t j)
{
    return m->feat_names ? m->feat_names[j] : m->lay.names[m->col[j]];
}

const char *er_model_id(const er_model *m)
{
    return m->id ? m->id : "";
}

const char *er_model_validation(const er_model *m)
{
    return m->validation ? m->validation : "{}";
}

void er_model_features(const er_model *m, const er_decl *d, const er_decl_score *sc, float *row)
{
    float full[ER_MODEL_MAX_FEATURES];
    uint64_t keys[MODEL_MAX_KINDS];
    layout_static_row(&m->lay, d, sc, m->extra_num, m->n_extra_num, full);
    for (size_t j = 0; j < m->nf; j++)
        row[j] = full[m->col[j]];
    size_t nk = decl_keys(d, m->extra_cat, m->n_extra_cat, keys);
    for (size_t k = 0; k < nk; k++) {
        long c = m->rate_col[k];
        if (c < 0)
            continue;
        if (!keys[k]) {
            row[c] = row[c + 1] = NAN;
            continue;
        }
        const rate_slot *s = rate_get(&m->rates, keys[k]);
        uint32_t n = s ? s->n : 0, pos = s ? s->pos : 0;
        row[c] = (float)(((double)pos + m->smoothing * m->prior) / ((double)n + m->smoothing));
        row[c + 1] = (float)n;
    }
}

void er_model_describe(const er_model *m, size_t j, const er_decl *d, const float *row, char *buf, size_t len)
{
    const char *name = er_model_feature_name(m, j);
    float v = row[j];
    for (size_t k = 0; k < m->lay.n_kinds; k++) {
        long c = m->rate_col[k];
        if (c < 0 || ((size_t)c != j && (size_t)c + 1 != j))
            continue;
        uint64_t keys[MODEL_MAX_KINDS];
        decl_keys(d, m->extra_cat, m->n_extra_cat, keys);
        const rate_slot *s = rate_get(&m->rates, keys[k]);
        if (!keys[k])
            snprintf(buf, len, "%s: not given", m->lay.kind_names[k]);
        else if (!s)
            snprintf(buf, len, "%s: no earlier inspection", m->lay.kind_names[k]);
        else
            snprintf(buf, len, "%s: %u of %u earlier inspections positive", m->lay.kind_names[k], s->pos, s->n);
        return;
    }
    if (strchr(name, '/') && isnan(v))
        snprintf(buf, len, "indicator %s did not fire", name);
    else if (isnan(v))
        snprintf(buf, len, "%s: missing", name);
    else if (strchr(name, '/') && v == 1.0f)
        snprintf(buf, len, "indicator %s fired", name);
    else if (strncmp(name, "anomaly.", 8) == 0)
        snprintf(buf, len, "%s: p = %.3g", name + 8, pow(10, -v));
    else
        snprintf(buf, len, "%s = %.6g", name, (double)v);
}
