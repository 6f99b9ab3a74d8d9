/*
 * mapping.c — column mappings (feeds/mappings/NAME.json): which source column or
 * JSON key feeds each canonical field, constants, value maps and the extras
 * policy. Loaded once per run with json-c; every error names the file and the
 * JSON path. See docs/feeds.md for the file format.
 */
#include "feed_internal.h"
#include "reader.h"
#include "core/sha256.h"
#include "ecorisk/data.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const er_field_names[F_COUNT] = {
    "id", "date", "flow", "declarant", "importer", "exporter", "hs", "description",
    "origin", "export_country", "destination", "transit", "mode", "office", "net_kg",
    "gross_kg", "quantity", "unit", "value", "currency", "packages", "container",
    "permits", "licences", "consents",
};

int er_field_index(const char *name)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(er_field_names[i], name) == 0)
            return i;
    return -1;
}

const char *er_mapping_sha256(const er_mapping *m)
{
    return m ? m->sha256 : "";
}

void er_mapping_free(er_mapping *m)
{
    if (!m)
        return;
    for (int i = 0; i < F_COUNT; i++) {
        free(m->f[i].column);
        free(m->f[i].constant);
        for (size_t k = 0; k < m->f[i].n_values; k++) {
            free(m->f[i].values[k].from);
            free(m->f[i].values[k].to);
        }
        free(m->f[i].values);
    }
    free(m->name);
    free(m->path);
    free(m);
}

const char *er_mapping_name(const er_mapping *m) { return m->name; }
er_format er_mapping_format(const er_mapping *m) { return m->format; }

/* The fields validation rewrites: those with a constant or a value map. */
static void mapping_index(er_mapping *m)
{
    m->n_rewrite = 0;
    for (int i = 0; i < F_COUNT; i++)
        if (m->f[i].constant || m->f[i].n_values)
            m->rewrite[m->n_rewrite++] = (uint8_t)i;
}

er_status er_mapping_canonical(er_mapping **out, er_format fmt, er_err *err)
{
    er_mapping *m = calloc(1, sizeof *m);
    if (!m)
        return er_errf(err, ER_ENOMEM, "out of memory");
    const char *fn = fmt == ER_FORMAT_AUTO ? NULL : er_format_name(fmt);
    char name[64];
    snprintf(name, sizeof name, "canonical-%s", fn ? fn : er_feed_readers[0].name);   /* row 0 reads by default */
    m->name = strdup(name);
    m->path = strdup("(built-in)");
    m->format = fmt;
    m->keep_extras = true;
    m->delimiter = ',';
    m->decimal = '.';
    bool ok = m->name && m->path;
    for (int i = 0; i < F_COUNT && ok; i++) {
        ok = (m->f[i].column = strdup(er_field_names[i])) != NULL;
        /* most feeds cite no documents: their columns may be absent without a warning */
        m->f[i].may_be_absent = i == F_PERMITS || i == F_LICENCES || i == F_CONSENTS;
    }
    if (!ok) {
        er_mapping_free(m);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    mapping_index(m);
    *out = m;
    return ER_OK;
}

static er_status bad(er_err *err, const char *path, const char *jpath, const char *what)
{
    return er_errf(err, ER_EFORMAT, "%s: %s: %s", path, jpath, what);
}

/* Constants and mapped values go into declarations as they are: they must be
 * valid UTF-8, as the values read from a feed must. */
static bool utf8_ok(const char *s)
{
    size_t at;
    return er_text_check(s, strlen(s), &at) == 0;
}

static er_status load_field(map_field *mf, json_object *v, const char *path, const char *fname,
                            er_err *err)
{
    char jp[160];
    snprintf(jp, sizeof jp, "fields.%s", fname);
    if (json_object_is_type(v, json_type_string)) {
        mf->column = strdup(json_object_get_string(v));
        return mf->column ? ER_OK : er_errf(err, ER_ENOMEM, "out of memory");
    }
    if (!json_object_is_type(v, json_type_object))
        return bad(err, path, jp, "expected a column name (string) or an object "
                                  "{\"column\", \"constant\", \"values\"}");
    json_object_object_foreach(v, key, val) {
        char kp[224];
        snprintf(kp, sizeof kp, "%s.%s", jp, key);
        if (strcmp(key, "column") == 0 || strcmp(key, "constant") == 0) {
            if (!json_object_is_type(val, json_type_string))
                return bad(err, path, kp, "expected a string");
            char **dst = key[1] == 'o' && key[2] == 'l' ? &mf->column : &mf->constant;
            free(*dst);
            if (!(*dst = strdup(json_object_get_string(val))))
                return er_errf(err, ER_ENOMEM, "out of memory");
            if (!utf8_ok(*dst))
                return bad(err, path, kp, "expected valid UTF-8 text");
        } else if (strcmp(key, "values") == 0) {
            if (!json_object_is_type(val, json_type_object))
                return bad(err, path, kp, "expected an object mapping source values to canonical values");
            size_t n = (size_t)json_object_object_length(val);
            mf->values = calloc(n ? n : 1, sizeof *mf->values);
            if (!mf->values)
                return er_errf(err, ER_ENOMEM, "out of memory");
            json_object_object_foreach(val, from, to) {
                if (!json_object_is_type(to, json_type_string)) {
                    char vp[300];
                    snprintf(vp, sizeof vp, "%s.%s", kp, from);
                    return bad(err, path, vp, "expected a string");
                }
                map_value *mv = &mf->values[mf->n_values++];
                mv->from = strdup(from);
                mv->to = strdup(json_object_get_string(to));
                if (!mv->from || !mv->to)
                    return er_errf(err, ER_ENOMEM, "out of memory");
                mv->from_len = strlen(mv->from);
                mv->to_len = strlen(mv->to);
                if (!utf8_ok(mv->to)) {
                    char vp[300];
                    snprintf(vp, sizeof vp, "%s.%s", kp, from);
                    return bad(err, path, vp, "expected valid UTF-8 text");
                }
            }
        } else if (strcmp(key, "optional") == 0) {
            if (!json_object_is_type(val, json_type_boolean))
                return bad(err, path, kp, "expected true or false");
            mf->may_be_absent = json_object_get_boolean(val);
        } else if (strcmp(key, "comment") == 0 || strcmp(key, "codes") == 0) {
            /* documentation only */
        } else {
            return bad(err, path, kp, "unknown key (expected column, constant, values, optional or comment)");
        }
    }
    if (!mf->column && !mf->constant)
        return bad(err, path, jp, "needs a \"column\" or a \"constant\"");
    if (mf->constant)
        mf->constant_len = strlen(mf->constant);
    return ER_OK;
}

/* A date pattern: YYYY, MM and DD once each, other characters literal (not digits or letters). */
static bool date_pattern_ok(const char *p)
{
    int y = 0, mo = 0, d = 0;
    if (strlen(p) >= sizeof ((er_mapping *)0)->date_formats[0])
        return false;
    while (*p) {
        if (strncmp(p, "YYYY", 4) == 0) { y++; p += 4; }
        else if (strncmp(p, "MM", 2) == 0) { mo++; p += 2; }
        else if (strncmp(p, "DD", 2) == 0) { d++; p += 2; }
        else if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) return false;
        else p++;
    }
    return y == 1 && mo == 1 && d == 1;
}

/* "date_formats", "delimiter", "decimal", "thousands": how the source writes things. */
static er_status parse_conventions(er_mapping *m, const char *key, json_object *val, const char *path,
                                   er_err *err)
{
    const char *s = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
    if (strcmp(key, "date_formats") == 0) {
        size_t n = json_object_is_type(val, json_type_array) ? json_object_array_length(val) : 0;
        if (n == 0 || n > ER_MAP_DATE_FORMATS)
            return bad(err, path, "date_formats", "expected an array of 1 to 8 patterns such as \"DD/MM/YYYY\"");
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(val, i);
            const char *p = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "";
            if (!date_pattern_ok(p)) {
                char kp[64];
                snprintf(kp, sizeof kp, "date_formats[%zu]", i);
                return bad(err, path, kp, "expected a pattern with YYYY, MM and DD once each and separators "
                                          "(e.g. \"DD/MM/YYYY\", \"YYYY-MM-DD\", \"DD.MM.YYYY\")");
            }
            snprintf(m->date_formats[i], sizeof m->date_formats[i], "%s", p);
        }
        m->n_date_formats = n;
    } else if (strcmp(key, "unknown_countries") == 0) {
        size_t n = json_object_is_type(val, json_type_array) ? json_object_array_length(val) : 99;
        if (n > 8)
            return bad(err, path, "unknown_countries", "expected an array of at most 8 codes such as [\"ZZ\", \"XX\"]");
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(val, i);
            const char *p = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "";
            bool two = strlen(p) == 2 && ((p[0] | 32) >= 'a' && (p[0] | 32) <= 'z') && ((p[1] | 32) >= 'a' && (p[1] | 32) <= 'z');
            if (!two) {
                char kp[64];
                snprintf(kp, sizeof kp, "unknown_countries[%zu]", i);
                return bad(err, path, kp, "expected a two-letter code");
            }
            m->unknown_countries[i][0] = (char)(p[0] & ~32);
            m->unknown_countries[i][1] = (char)(p[1] & ~32);
        }
        m->n_unknown_countries = n;
    } else if (strcmp(key, "delimiter") == 0) {
        if (!s || !(strcmp(s, ",") == 0 || strcmp(s, ";") == 0 || strcmp(s, "\t") == 0 || strcmp(s, "|") == 0))
            return bad(err, path, "delimiter", "expected \",\", \";\", \"\\t\" (tab) or \"|\"");
        m->delimiter = s[0];
    } else if (strcmp(key, "decimal") == 0) {
        if (!s || !(strcmp(s, ".") == 0 || strcmp(s, ",") == 0))
            return bad(err, path, "decimal", "expected \".\" or \",\"");
        m->decimal = s[0];
    } else {   /* thousands */
        if (!s || !(strcmp(s, "") == 0 || strcmp(s, ".") == 0 || strcmp(s, ",") == 0 || strcmp(s, " ") == 0 ||
                    strcmp(s, "'") == 0))
            return bad(err, path, "thousands", "expected \"\" (none), \".\", \",\", \" \" or \"'\"");
        m->thousands = s[0];
    }
    return ER_OK;
}

static er_status parse_mapping(er_mapping *m, json_object *root, const char *path, er_err *err)
{
    er_status st;
    if (!json_object_is_type(root, json_type_object))
        return bad(err, path, "$", "expected a JSON object");
    json_object *fields = NULL;
    json_object_object_foreach(root, key, val) {
        if (strcmp(key, "name") == 0) {
            if (!json_object_is_type(val, json_type_string))
                return bad(err, path, "name", "expected a string");
            free(m->name);
            if (!(m->name = strdup(json_object_get_string(val))))
                return er_errf(err, ER_ENOMEM, "out of memory");
        } else if (strcmp(key, "format") == 0) {
            er_format f = ER_FORMAT_AUTO;
            if (!json_object_is_type(val, json_type_string) ||
                !er_format_from_name(json_object_get_string(val), &f) || f == ER_FORMAT_AUTO) {
                char names[128], want[160];
                er_format_list(names, sizeof names);
                snprintf(want, sizeof want, "expected a feed format (%s)", names);
                return bad(err, path, "format", want);
            }
            m->format = f;
        } else if (strcmp(key, "extras") == 0) {
            if (!json_object_is_type(val, json_type_boolean))
                return bad(err, path, "extras", "expected true (keep unmapped columns) or false");
            m->keep_extras = json_object_get_boolean(val);
        } else if (strcmp(key, "fields") == 0) {
            if (!json_object_is_type(val, json_type_object))
                return bad(err, path, "fields", "expected an object {canonical field: column}");
            fields = val;
        } else if (strcmp(key, "date_formats") == 0 || strcmp(key, "delimiter") == 0 ||
                   strcmp(key, "unknown_countries") == 0 ||
                   strcmp(key, "decimal") == 0 || strcmp(key, "thousands") == 0) {
            if ((st = parse_conventions(m, key, val, path, err)) != ER_OK)
                return st;
        } else if (strcmp(key, "description") == 0 || strcmp(key, "comment") == 0 ||
                   strcmp(key, "source") == 0) {
            /* documentation only */
        } else {
            char kp[160];
            snprintf(kp, sizeof kp, "%s", key);
            return bad(err, path, kp, "unknown key (expected name, format, description, source, "
                                      "extras, date_formats, delimiter, decimal, thousands, unknown_countries or fields)");
        }
    }
    if (m->thousands && m->thousands == m->decimal)
        return bad(err, path, "thousands", "must differ from the decimal separator");
    if (m->decimal == ',' && m->delimiter == ',' && m->format != ER_FORMAT_JSONL)
        return bad(err, path, "decimal", "a decimal comma needs another delimiter (e.g. \";\")");
    if (!fields)
        return bad(err, path, "fields", "missing (the canonical field → column table)");
    json_object_object_foreach(fields, fname, fval) {
        int fi = er_field_index(fname);
        if (fi < 0) {
            char kp[160];
            snprintf(kp, sizeof kp, "fields.%s", fname);
            return bad(err, path, kp, "not a canonical field (see docs/feeds.md: id, date, flow, "
                                      "declarant, importer, exporter, hs, ...)");
        }
        if ((st = load_field(&m->f[fi], fval, path, fname, err)) != ER_OK)
            return st;
    }
    return ER_OK;
}

static bool is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && strcmp(s + n - 5, ".json") == 0);
}

/* Resolve a built-in name through the data folder lookup (data.h). */
static er_status find_builtin(const char *name, char *out, size_t cap, er_err *err)
{
    char file[300], dir[4096];
    er_status st;
    if ((size_t)snprintf(file, sizeof file, "%s.json", name) >= sizeof file)
        return er_errf(err, ER_EINVAL, "mapping name too long: '%.40s...'", name);
    if ((st = er_data_find(ER_DATA_MAPPINGS, file, dir, sizeof dir, err)) != ER_OK)
        return er_err_prefix(err, st, "unknown mapping '%s'", name);
    if ((size_t)snprintf(out, cap, "%s/%s", dir, file) >= cap)
        return er_errf(err, ER_ELIMIT, "mapping path too long: %s/%s", dir, file);
    return ER_OK;
}

er_status er_mapping_load(er_mapping **out, const char *name_or_path, er_err *err)
{
    er_status st = ER_OK;
    char path[4096];
    json_object *root = NULL;
    er_mapping *m = NULL;
    *out = NULL;
    if (is_path(name_or_path)) {
        snprintf(path, sizeof path, "%s", name_or_path);
        if (access(path, R_OK) != 0) {
            st = er_errf(err, ER_ENOTFOUND, "%s: mapping file not found or unreadable", path);
            goto cleanup;
        }
    } else if ((st = find_builtin(name_or_path, path, sizeof path, err)) != ER_OK) {
        goto cleanup;
    }
    root = json_object_from_file(path);
    if (!root) {
        st = er_errf(err, ER_EFORMAT, "%s: not valid JSON: %s", path, json_util_get_last_err());
        goto cleanup;
    }
    m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path)) || !(m->name = strdup(name_or_path))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    m->format = ER_FORMAT_AUTO;
    m->keep_extras = true;
    m->delimiter = ',';
    m->decimal = '.';
    if ((st = er_sha256_file(path, m->sha256, err)) != ER_OK)
        goto cleanup;
    if ((st = parse_mapping(m, root, path, err)) != ER_OK)
        goto cleanup;
    mapping_index(m);
    *out = m;
    m = NULL;
cleanup:
    er_mapping_free(m);
    json_object_put(root);
    return st;
}
