/*
 * reader_jsonl.c — the JSON Lines row of the feed reader table (reader.h):
 * each line's object (jsonl.c) becomes a raw record by key; arrays of
 * transit countries and of document numbers are joined with ';'
 * (docs/feeds.md#jsonl, docs/registries.md); a line that is not an object,
 * or a value of the wrong shape, becomes a quarantine item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "reader.h"

typedef struct rjsonl {
    feed_ctx  c;
    er_jsonl *jl;
    char     *join;          /* transit countries joined */
    size_t    join_cap;
    char     *djoin[3];      /* arrays of document numbers (permits, licences, consents) */
    size_t    djoin_cap[3];
} rjsonl;

/* A JSON object's opening brace first. */
bool er_reader_jsonl_sniff(const char *p, size_t n)
{
    size_t i = er_feed_skip_space(p, n);
    return i < n && p[i] == '{';
}

void er_reader_jsonl_free(void *state)
{
    rjsonl *j = state;
    if (!j)
        return;
    jsonl_free(j->jl);
    free(j->join);
    for (int i = 0; i < 3; i++)
        free(j->djoin[i]);
    free(j);
}

void er_reader_jsonl_counts(const void *state, uint64_t *bytes, uint64_t *blank_lines)
{
    const rjsonl *j = state;
    *bytes = jsonl_bytes(j->jl);
    *blank_lines = jsonl_blank_lines(j->jl);
}

er_status er_reader_jsonl_open(void **state, er_src *src, const feed_ctx *c, er_err *err)
{
    *state = NULL;
    rjsonl *j = calloc(1, sizeof *j);
    if (!j)
        return er_errf(err, ER_ENOMEM, "out of memory");
    j->c = *c;
    er_status st = jsonl_open(&j->jl, src, ER_LIMIT_RECORD, err);
    if (st != ER_OK) {
        er_reader_jsonl_free(j);
        return st;
    }
    *state = j;
    return ER_OK;
}

static const char *json_text(json_object *v, size_t *len)
{
    const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    *len = strlen(s);
    return s;
}

/* Room for need bytes in *buf. false: out of memory (said in why). */
static bool reserve(char **buf, size_t *cap, size_t need, char *why, size_t wcap)
{
    if (*cap >= need)
        return true;
    char *nb = realloc(*buf, need);
    if (!nb) {
        snprintf(why, wcap, "out of memory");
        return false;
    }
    *buf = nb;
    *cap = need;
    return true;
}

/* An array of document numbers becomes "A;B;C" (docs/registries.md), in a buffer of
 * the field's own, since a record may carry all three. */
static bool join_docs(rjsonl *f, raw_rec *r, int fi, json_object *v, char *why, size_t cap)
{
    int slot = fi - F_PERMITS;
    size_t n = json_object_array_length(v), need = 1;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string)) {
            snprintf(why, cap, "%s[%zu]: expected a document number (string)", er_field_names[fi], i);
            return false;
        }
        need += (size_t)json_object_get_string_len(e) + 1;
    }
    if (!reserve(&f->djoin[slot], &f->djoin_cap[slot], need, why, cap))
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (k)
            f->djoin[slot][k++] = ';';
        memcpy(f->djoin[slot] + k, json_object_get_string(e), (size_t)json_object_get_string_len(e));
        k += (size_t)json_object_get_string_len(e);
    }
    f->djoin[slot][k] = '\0';
    r->v[fi] = f->djoin[slot];
    r->len[fi] = (uint32_t)k;
    return true;
}

/* An array of transit countries becomes "AA;BB". */
static bool join_transit(rjsonl *f, raw_rec *r, int fi, json_object *v, char *why, size_t cap)
{
    size_t n = json_object_array_length(v), k = 0;
    if (!reserve(&f->join, &f->join_cap, n * 3 + 1, why, cap))
        return false;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string) || json_object_get_string_len(e) != 2) {
            snprintf(why, cap, "transit[%zu]: expected a two-letter country code", i);
            return false;
        }
        if (k)
            f->join[k++] = ';';
        memcpy(f->join + k, json_object_get_string(e), 2);
        k += 2;
    }
    r->v[fi] = f->join;
    r->len[fi] = (uint32_t)k;
    return true;
}

/* Fill r->v[fi] from a JSON value. false: shape error, detail in why. */
static bool json_field(rjsonl *f, raw_rec *r, int fi, json_object *v, char *why, size_t cap)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return true;
    case json_type_string:
        r->v[fi] = json_object_get_string(v);
        r->len[fi] = (uint32_t)json_object_get_string_len(v);
        return true;
    case json_type_int:
    case json_type_double:
    case json_type_boolean: {
        size_t n;
        r->v[fi] = json_text(v, &n);
        r->len[fi] = (uint32_t)n;
        return true;
    }
    case json_type_array:
        if (fi == F_TRANSIT)
            return join_transit(f, r, fi, v, why, cap);
        if (fi == F_PERMITS || fi == F_LICENCES || fi == F_CONSENTS)
            return join_docs(f, r, fi, v, why, cap);
        /* fall through */
    default:
        snprintf(why, cap, "%s: expected a string or a number, got %s", er_field_names[fi],
                 json_object_is_type(v, json_type_array) ? "an array" : "an object");
        return false;
    }
}

static bool is_mapped_key(const rjsonl *f, const char *key)
{
    for (int fi = 0; fi < F_COUNT; fi++)
        if (f->c.map->f[fi].column && strcmp(f->c.map->f[fi].column, key) == 0)
            return true;
    return false;
}

/* The keys kept as extras (unmapped ones when the mapping keeps extras, and
 * the label key). false: too many, said in it. */
static bool take_extras(const rjsonl *f, json_object *obj, raw_rec *r, feed_item *it)
{
    json_object_object_foreach(obj, key, val) {
        bool label = f->c.label_field && strcmp(key, f->c.label_field) == 0;
        if (!label && (!f->c.map->keep_extras || is_mapped_key(f, key)))
            continue;
        if (r->n_extra == ER_LIMIT_EXTRAS) {
            it->bad = true;
            it->reason = ER_Q_TOO_LONG;
            snprintf(it->detail, sizeof it->detail, "more than %d extra keys", ER_LIMIT_EXTRAS);
            return false;
        }
        size_t n;
        const char *s;
        if (json_object_is_type(val, json_type_null))
            continue;
        if (json_object_is_type(val, json_type_string)) {
            s = json_object_get_string(val);
            n = (size_t)json_object_get_string_len(val);
        } else {
            s = json_text(val, &n);
        }
        r->xname[r->n_extra] = key;
        r->xval[r->n_extra] = s;
        r->xlen[r->n_extra] = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
        r->n_extra++;
    }
    return true;
}

/* One jsonl.c record into r and it (shared by next and parse; f's join
 * buffers hold the joined arrays). */
static void take_record(rjsonl *f, const jsonl_rec *rec, raw_rec *r, feed_item *it)
{
    er_feed_item_at(it, rec->line, rec->raw, rec->raw_len);
    if (rec->err != JL_OK) {
        it->bad = true;
        it->reason = rec->err == JL_TOOLONG ? ER_Q_TOO_LONG : ER_Q_SYNTAX;
        snprintf(it->detail, sizeof it->detail, "%s", rec->errmsg);
        return;
    }
    for (int fi = 0; fi < F_COUNT; fi++) {
        const char *key = f->c.map->f[fi].column;
        json_object *v;
        if (!key || !json_object_object_get_ex(rec->obj, key, &v))
            continue;
        if (!json_field(f, r, fi, v, it->detail, sizeof it->detail)) {
            it->bad = true;
            it->reason = ER_Q_SYNTAX;
            it->field = er_field_names[fi];
            return;
        }
    }
    take_extras(f, rec->obj, r, it);
}

er_status er_reader_jsonl_next(void *state, raw_rec *r, feed_item *it, er_err *err)
{
    rjsonl *f = state;
    jsonl_rec rec;
    er_status st = jsonl_next(f->jl, &rec, err);
    if (st == ER_OK)
        take_record(f, &rec, r, it);
    return st;
}

/* ---- in two steps (reader.h): cut on the reading thread, parse anywhere ---- */

typedef struct cut_part {
    rcut      cut;
    er_jsonl *mem;      /* the reader of this chunk's cut */
    rjsonl    own;      /* the feed's context, with join buffers of this chunk's */
} cut_part;

static void cut_part_free(void *p)
{
    cut_part *cp = p;
    if (!cp)
        return;
    rcut_free(&cp->cut);
    jsonl_mem_free(cp->mem);
    free(cp->own.join);
    for (int i = 0; i < 3; i++)
        free(cp->own.djoin[i]);
    free(cp);
}

er_status er_reader_jsonl_cut(void *state, feed_chunk *c, size_t max_records, er_err *err)
{
    rjsonl *f = state;
    er_status st;
    if (!er_chunk_owned(c, (const void *)er_reader_jsonl_cut)) {
        cut_part *cp = calloc(1, sizeof *cp);
        if (!cp || (st = jsonl_mem_open(&cp->mem, f->jl, err)) != ER_OK) {
            free(cp);
            return cp ? st : er_errf(err, ER_ENOMEM, "out of memory");
        }
        er_chunk_adopt(c, (const void *)er_reader_jsonl_cut, cp, cut_part_free);
    }
    cut_part *cp = c->part;
    cp->own.c = f->c;   /* the chunk may come from another feed than last time */
    st = jsonl_cut_next(f->jl, &cp->cut, max_records, ER_CUT_MAX_BYTES, err);
    c->n_rec = st == ER_OK ? cp->cut.n_rec : 0;
    c->fresh = true;
    return st;
}

er_status er_reader_jsonl_parse(const void *state, feed_chunk *c, raw_rec *r, feed_item *it, er_err *err)
{
    (void)state;   /* what parsing needs of it was copied at the cut */
    cut_part *cp = c->part;
    if (c->fresh) {
        jsonl_mem_reset(cp->mem, &cp->cut);
        c->fresh = false;
    }
    jsonl_rec rec;
    er_status st = jsonl_next(cp->mem, &rec, err);
    if (st == ER_OK)
        take_record(&cp->own, &rec, r, it);
    return st;
}
