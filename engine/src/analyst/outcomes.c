/*
 * outcomes.c — the local outcome store (analyst.h): inspection results
 * (declaration id, seized yes/no, date, notes) recorded by analysts from a
 * CSV file into an append-only outcomes.jsonl in a directory, deduplicated by
 * declaration id with the last line winning. Backtest and report read it as
 * labels, so hit rates follow each profile as results come in.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecorisk/analyst.h"
#include "ecorisk/decl.h"
#include "core/sbuf.h"

#define STORE_FILE "outcomes.jsonl"
#define MAX_CSV_BYTES (256u << 20)
#define MAX_NOTES 1024

typedef struct entry {
    char   *id, *notes;
    bool    seized;
    int32_t date;
} entry;

struct er_outcomes {
    entry    *e;
    size_t    n, cap;
    uint32_t *slots;    /* index + 1; 0 empty */
    size_t    n_slots;
    er_outcome view;    /* returned by er_outcomes_get */
};

void er_outcomes_free(er_outcomes *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->e[i].id);
        free(o->e[i].notes);
    }
    free(o->e);
    free(o->slots);
    free(o);
}

size_t er_outcomes_count(const er_outcomes *o) { return o ? o->n : 0; }

static long find_slot(const er_outcomes *o, const char *id, size_t *slot)
{
    if (!o->n_slots)
        return -1;
    size_t j = er_hash64(id, strlen(id), 0x6f7574636f6d65ULL) & (o->n_slots - 1);
    while (o->slots[j]) {
        if (strcmp(o->e[o->slots[j] - 1].id, id) == 0) {
            if (slot)
                *slot = j;
            return (long)o->slots[j] - 1;
        }
        j = (j + 1) & (o->n_slots - 1);
    }
    if (slot)
        *slot = j;
    return -1;
}

static bool rehash(er_outcomes *o)
{
    size_t ns = o->n_slots ? o->n_slots * 2 : 1024;
    uint32_t *nsl = calloc(ns, sizeof *nsl);
    if (!nsl)
        return false;
    for (size_t i = 0; i < o->n; i++) {
        size_t j = er_hash64(o->e[i].id, strlen(o->e[i].id), 0x6f7574636f6d65ULL) & (ns - 1);
        while (nsl[j])
            j = (j + 1) & (ns - 1);
        nsl[j] = (uint32_t)i + 1;
    }
    free(o->slots);
    o->slots = nsl;
    o->n_slots = ns;
    return true;
}

/* Insert or replace; 1 added, 2 updated, 0 unchanged, -1 ENOMEM. */
static int put(er_outcomes *o, const char *id, bool seized, int32_t date, const char *notes)
{
    if ((o->n + 1) * 2 > o->n_slots && !rehash(o))
        return -1;
    size_t slot = 0;
    long i = find_slot(o, id, &slot);
    if (i >= 0) {
        entry *e = &o->e[i];
        if (e->seized == seized && e->date == date && strcmp(e->notes, notes) == 0)
            return 0;
        char *nn = strdup(notes);
        if (!nn)
            return -1;
        free(e->notes);
        e->notes = nn;
        e->seized = seized;
        e->date = date;
        return 2;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 256;
        entry *ne = realloc(o->e, nc * sizeof *ne);
        if (!ne)
            return -1;
        o->e = ne;
        o->cap = nc;
    }
    entry *e = &o->e[o->n];
    e->id = strdup(id);
    e->notes = strdup(notes);
    if (!e->id || !e->notes) {
        free(e->id);
        free(e->notes);
        return -1;
    }
    e->seized = seized;
    e->date = date;
    o->slots[slot] = (uint32_t)o->n + 1;
    o->n++;
    return 1;
}

const er_outcome *er_outcomes_get(const er_outcomes *o, const char *id)
{
    if (!o || !id)
        return NULL;
    long i = find_slot(o, id, NULL);
    if (i < 0)
        return NULL;
    er_outcomes *mo = (er_outcomes *)o;   /* the view is a cache inside the store */
    const entry *e = &o->e[i];
    mo->view = (er_outcome){e->id, e->seized, e->date, e->notes};
    return &mo->view;
}

static er_status load_file(er_outcomes *o, const char *path, er_err *err)
{
    er_status st = ER_OK;
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    json_object *obj = NULL;
    if (!f) {
        if (errno == ENOENT)
            return ER_OK;
        return er_errf(err, ER_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        json_object_put(obj);
        obj = json_tokener_parse(line);
        json_object *jid, *js, *jd, *jn;
        if (!obj || !json_object_is_type(obj, json_type_object)) {
            st = er_errf(err, ER_EPARSE, "%s:%lu: not a JSON object", path, lineno);
            goto cleanup;
        }
        if (!json_object_object_get_ex(obj, "id", &jid) || !json_object_is_type(jid, json_type_string) ||
            json_object_get_string_len(jid) == 0) {
            st = er_errf(err, ER_EPARSE, "%s:%lu: $.id: expected a non-empty string", path, lineno);
            goto cleanup;
        }
        if (!json_object_object_get_ex(obj, "seized", &js) || !json_object_is_type(js, json_type_boolean)) {
            st = er_errf(err, ER_EPARSE, "%s:%lu: $.seized: expected true or false", path, lineno);
            goto cleanup;
        }
        int32_t date = 0;
        if (json_object_object_get_ex(obj, "date", &jd)) {
            const char *ds = json_object_get_string(jd);
            if (!json_object_is_type(jd, json_type_string) || strlen(ds) != 10 ||
                er_date_parse(ds, 10, &date) != ER_OK) {
                st = er_errf(err, ER_EPARSE, "%s:%lu: $.date: expected a date YYYY-MM-DD", path, lineno);
                goto cleanup;
            }
        }
        const char *notes = "";
        if (json_object_object_get_ex(obj, "notes", &jn)) {
            if (!json_object_is_type(jn, json_type_string)) {
                st = er_errf(err, ER_EPARSE, "%s:%lu: $.notes: expected a string", path, lineno);
                goto cleanup;
            }
            notes = json_object_get_string(jn);
        }
        if (put(o, json_object_get_string(jid), json_object_get_boolean(js), date, notes) < 0) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    if (ferror(f))
        st = er_errf(err, ER_EIO, "%s: read failed", path);
cleanup:
    json_object_put(obj);
    free(line);
    fclose(f);
    return st;
}

er_status er_outcomes_load(er_outcomes **out, const char *dir, er_err *err)
{
    struct stat sb;
    char path[4096];
    *out = NULL;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return er_errf(err, ER_ENOTFOUND, "%s: outcome store not found (a directory; create it with "
                       "'ecorisk outcomes add')", dir);
    er_outcomes *o = calloc(1, sizeof *o);
    if (!o)
        return er_errf(err, ER_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE);
    er_status st = load_file(o, path, err);
    if (st != ER_OK) {
        er_outcomes_free(o);
        return st;
    }
    *out = o;
    return ER_OK;
}

/* ---- CSV of inspection results ---- */

typedef struct csv_row {
    char  **f;
    size_t  n, cap;
    unsigned long line;
} csv_row;

/* Parse the next record from p (RFC 4180). Fields are copied (malloc'd). Returns
 * 1 with a record, 0 at the end, -1 on a syntax error (unterminated quote), -2 ENOMEM. */
static int csv_next(const char **pp, const char *end, unsigned long *line, csv_row *r)
{
    const char *p = *pp;
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    r->n = 0;
    if (p >= end)
        return 0;
    r->line = *line;
    er_sb fld = {0};
    for (;;) {
        if (er_sb_reserve(&fld, 16))
            fld.p[0] = '\0';
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p >= end) {
                    er_sb_free(&fld);
                    return -1;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        er_sb_putc(&fld, '"');
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\n')
                    (*line)++;
                er_sb_putc(&fld, *p++);
            }
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                er_sb_putc(&fld, *p++);   /* tolerate text after the closing quote */
        } else {
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                er_sb_putc(&fld, *p++);
        }
        if (fld.oom) {
            er_sb_free(&fld);
            return -2;
        }
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 8;
            char **nf = realloc(r->f, nc * sizeof *nf);
            if (!nf) {
                er_sb_free(&fld);
                return -2;
            }
            r->f = nf;
            r->cap = nc;
        }
        r->f[r->n++] = fld.p ? fld.p : strdup("");
        fld = (er_sb){0};
        if (!r->f[r->n - 1])
            return -2;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
        (*line)++;
        break;
    }
    *pp = p;
    return 1;
}

static void csv_row_free(csv_row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    free(r->f);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int parse_seized(const char *s)
{
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "y") || !strcasecmp(s, "true") || !strcmp(s, "1"))
        return 1;
    if (!strcasecmp(s, "no") || !strcasecmp(s, "n") || !strcasecmp(s, "false") || !strcmp(s, "0"))
        return 0;
    return -1;
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) { p++; continue; }
        int n = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2))
            return false;
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n + 1;
    }
    return true;
}

static er_status mkdir_p(const char *dir, er_err *err)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return er_errf(err, ER_EINVAL, "outcome store: bad directory name");
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return er_errf(err, ER_EIO, "%s: cannot create directory: %s", tmp, strerror(errno));
        tmp[i] = c;
    }
    return ER_OK;
}

static char *read_all(const char *path, size_t *len, er_err *err, er_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    er_sb b = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        er_sb_put(&b, buf, n);
        if (b.len > MAX_CSV_BYTES) {
            *st = er_errf(err, ER_ELIMIT, "%s: larger than %u MiB", path, MAX_CSV_BYTES >> 20);
            break;
        }
    }
    if (*st == ER_OK && ferror(f))
        *st = er_errf(err, ER_EIO, "%s: read failed", path);
    if (*st == ER_OK && b.oom)
        *st = er_errf(err, ER_ENOMEM, "out of memory");
    fclose(f);
    if (*st != ER_OK) {
        er_sb_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p ? b.p : strdup("");
}

/* Columns of a results file: index in the row, -1 absent. */
typedef struct cols {
    long id, seized, date, notes;
} cols;

/* The header row: each column known and once, declaration_id and seized present. */
static er_status read_header(const csv_row *row, const char *csv_path, cols *c, er_err *err)
{
    *c = (cols){-1, -1, -1, -1};
    for (size_t i = 0; i < row->n; i++) {
        const char *h = trim(row->f[i]);
        long *slot = !strcasecmp(h, "declaration_id") || !strcasecmp(h, "id") ? &c->id
                   : !strcasecmp(h, "seized") ? &c->seized
                   : !strcasecmp(h, "date") ? &c->date
                   : !strcasecmp(h, "notes") ? &c->notes : NULL;
        if (!slot)
            return er_errf(err, ER_EFORMAT, "%s:1: unknown column '%s' (expected declaration_id, seized, date, notes)",
                           csv_path, h);
        if (*slot >= 0)
            return er_errf(err, ER_EFORMAT, "%s:1: column '%s' appears twice", csv_path, h);
        *slot = (long)i;
    }
    if (c->id < 0 || c->seized < 0)
        return er_errf(err, ER_EFORMAT, "%s:1: missing column '%s' (required: declaration_id, seized)", csv_path,
                       c->id < 0 ? "declaration_id" : "seized");
    return ER_OK;
}

/* One checked result row. */
typedef struct result {
    const char *id, *notes;
    int         seized;
    int32_t     date;
} result;

/* The fields of one data row, checked (id, seized, date, notes). */
static er_status read_result(const csv_row *row, const cols *c, const char *csv_path, result *r, er_err *err)
{
    r->id = trim(row->f[c->id]);
    if (!*r->id || strlen(r->id) > ER_LIMIT_ID || !valid_utf8(r->id))
        return er_errf(err, ER_EFORMAT, "%s:%lu: declaration_id: expected 1 to %d bytes of UTF-8", csv_path,
                       row->line, ER_LIMIT_ID);
    r->seized = parse_seized(trim(row->f[c->seized]));
    if (r->seized < 0)
        return er_errf(err, ER_EFORMAT, "%s:%lu: seized: expected yes/no, true/false or 1/0, got '%s'", csv_path,
                       row->line, row->f[c->seized]);
    r->date = 0;
    if (c->date >= 0) {
        const char *ds = trim(row->f[c->date]);
        if (*ds && (strlen(ds) != 10 || er_date_parse(ds, 10, &r->date) != ER_OK))
            return er_errf(err, ER_EFORMAT, "%s:%lu: date: expected YYYY-MM-DD, got '%s'", csv_path, row->line, ds);
    }
    r->notes = c->notes >= 0 ? row->f[c->notes] : "";
    if (strlen(r->notes) > MAX_NOTES || !valid_utf8(r->notes))
        return er_errf(err, ER_EFORMAT, "%s:%lu: notes: expected at most %d bytes of UTF-8", csv_path, row->line,
                       MAX_NOTES);
    return ER_OK;
}

/* The store line of a new or changed result. */
static void result_json(er_sb *out, const result *r, const char *csv_path, unsigned long line)
{
    er_sb_puts(out, "{\"id\":");
    er_sb_json_cstr(out, r->id);
    er_sb_puts(out, r->seized == 1 ? ",\"seized\":true" : ",\"seized\":false");
    if (r->date) {
        char ds[11];
        er_date_format(r->date, ds);
        er_sb_printf(out, ",\"date\":\"%s\"", ds);
    }
    if (*r->notes) {
        er_sb_json_key(out, "notes");
        er_sb_json_cstr(out, r->notes);
    }
    er_sb_json_key(out, "source");
    er_sb_json_cstr(out, csv_path);
    er_sb_printf(out, ",\"line\":%lu}\n", line);
}

/* Append out to the store file and fsync it. */
static er_status append_store(const char *dir, const er_sb *out, er_err *err)
{
    er_status st = ER_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return er_errf(err, ER_EIO, "%s: cannot open for append: %s", path, strerror(errno));
    for (size_t off = 0; off < out->len;) {
        ssize_t w = write(fd, out->p + off, out->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            st = er_errf(err, ER_EIO, "%s: write failed: %s", path, strerror(errno));
            goto cleanup;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        st = er_errf(err, ER_EIO, "%s: fsync failed: %s", path, strerror(errno));
cleanup:
    if (close(fd) != 0 && st == ER_OK)
        st = er_errf(err, ER_EIO, "%s: close failed: %s", path, strerror(errno));
    return st;
}

er_status er_outcomes_add(const char *dir, const char *csv_path, er_outcomes_added *res, er_err *err)
{
    er_status st = ER_OK;
    er_outcomes *o = NULL;
    char *text = NULL;
    size_t len = 0;
    csv_row row = {0};
    er_sb out = {0};
    unsigned long line = 1;
    cols c;

    memset(res, 0, sizeof *res);
    if ((st = mkdir_p(dir, err)) != ER_OK)
        goto cleanup;
    if ((st = er_outcomes_load(&o, dir, err)) != ER_OK)
        goto cleanup;
    if (!(text = read_all(csv_path, &len, err, &st)))
        goto cleanup;
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    int rc = csv_next(&p, end, &line, &row);
    if (rc <= 0) {
        st = er_errf(err, rc == -2 ? ER_ENOMEM : ER_EFORMAT, "%s: %s", csv_path,
                     rc == 0 ? "empty file (expected a header: declaration_id,seized,date,notes)"
                             : "malformed header");
        goto cleanup;
    }
    if ((st = read_header(&row, csv_path, &c, err)) != ER_OK)
        goto cleanup;
    size_t ncols = row.n;
    while ((rc = csv_next(&p, end, &line, &row)) == 1) {
        if (row.n == 1 && row.f[0][0] == '\0')
            continue;   /* blank line */
        res->rows++;
        if (row.n != ncols) {
            st = er_errf(err, ER_EFORMAT, "%s:%lu: %zu fields, the header has %zu", csv_path, row.line, row.n, ncols);
            goto cleanup;
        }
        result r;
        if ((st = read_result(&row, &c, csv_path, &r, err)) != ER_OK)
            goto cleanup;
        int k = put(o, r.id, r.seized == 1, r.date, r.notes);
        if (k < 0) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (k == 0) {
            res->unchanged++;
            continue;
        }
        if (k == 1)
            res->added++;
        else
            res->updated++;
        result_json(&out, &r, csv_path, row.line);
    }
    if (rc < 0) {
        st = er_errf(err, rc == -2 ? ER_ENOMEM : ER_EFORMAT, "%s:%lu: %s", csv_path, line,
                     rc == -2 ? "out of memory" : "unterminated quoted field");
        goto cleanup;
    }
    if (out.oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (out.len)
        st = append_store(dir, &out, err);
cleanup:
    er_sb_free(&out);
    csv_row_free(&row);
    free(text);
    er_outcomes_free(o);
    return st;
}
