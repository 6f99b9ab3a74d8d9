/*
 * enqueue.c — spooling an alerts.jsonl into the outbox (er_outbox_enqueue_file,
 * outbox.h; docs/alerts.md): every line is checked first (a JSON object with
 * a non-empty string "alert_id"; a bad line spools nothing from the file),
 * then the alerts are spooled batch by batch. A file is read twice and never
 * held in memory whole; stdin, which cannot be read twice, is held.
 */
#include "ecorisk/outbox.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lines {
    char  **v;
    size_t  n, cap;
} lines;

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Check one alert line: a JSON object with a string alert_id. */
static const char *check_alert(json_tokener *tok, const char *s, size_t len)
{
    const char *why = NULL;
    json_object *id = NULL;
    if (len > INT_MAX)
        return "line too long";
    json_tokener_reset(tok);
    json_object *j = json_tokener_parse_ex(tok, s, (int)len);
    if (!j || json_tokener_get_error(tok) != json_tokener_success)
        why = "not valid JSON";
    else if (json_tokener_get_parse_end(tok) != len)
        why = "more than one JSON value on the line";
    else if (!json_object_is_type(j, json_type_object))
        why = "not a JSON object";
    else if (!json_object_object_get_ex(j, "alert_id", &id) || !json_object_is_type(id, json_type_string) ||
             json_object_get_string_len(id) == 0)
        why = "no \"alert_id\" string";
    json_object_put(j);
    return why;
}

/* One pass over a stream: what it reads and where it spools. */
typedef struct pass {
    const char *name;      /* for messages */
    bool        validate;  /* check every line (messages name file:line) */
    lines      *keep;      /* collect the lines, or NULL */
    er_outbox  *ob;        /* with keep: spool every `batch` lines, or NULL */
    size_t      batch;
    size_t      n_alerts;
    size_t     *n_spooled;
} pass;

/* Spool the lines kept so far (p->ob non-NULL) and forget them. */
static er_status flush_lines(pass *p, er_err *err)
{
    size_t done = 0;
    er_status st = ER_OK;
    lines *l = p->keep;
    if (l->n == 0)
        return ER_OK;
    st = er_outbox_put_all(p->ob, (const char *const *)l->v, l->n, p->batch, &done, err);
    *p->n_spooled += done;
    if (st != ER_OK && err) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        er_errf(err, st, "%s: spooling failed: %s (%zu alerts are safely pending)", p->name, why,
                *p->n_spooled);
    }
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
    return st;
}

static er_status keep_line(pass *p, const char *line, er_err *err)
{
    lines *k = p->keep;
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 1024;
        char **nv = realloc(k->v, nc * sizeof *nv);
        if (!nv)
            return er_errf(err, ER_ENOMEM, "%s: out of memory", p->name);
        k->v = nv;
        k->cap = nc;
    }
    if (!(k->v[k->n] = strdup(line)))
        return er_errf(err, ER_ENOMEM, "%s: out of memory", p->name);
    k->n++;
    if (p->ob && k->n >= p->batch)
        return flush_lines(p, err);
    return ER_OK;
}

/* One pass over an alerts.jsonl stream (see pass). */
static er_status scan_alerts(FILE *f, pass *p, er_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    er_status st = ER_OK;
    json_tokener *tok = p->validate ? json_tokener_new() : NULL;

    p->n_alerts = 0;
    if (p->validate && !tok) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        const char *why = p->validate ? check_alert(tok, line, (size_t)len) : NULL;
        if (why) {
            st = er_errf(err, ER_EPARSE, "%s:%lu: %s; nothing from this file was spooled", p->name, lineno,
                         why);
            goto cleanup;
        }
        p->n_alerts++;
        if (p->keep && (st = keep_line(p, line, err)) != ER_OK)
            goto cleanup;
    }
    if (ferror(f)) {
        st = er_errf(err, ER_EIO, "%s: read error: %s", p->name, strerror(errno));
        goto cleanup;
    }
    if (p->ob && p->keep)
        st = flush_lines(p, err);

cleanup:
    if (tok)
        json_tokener_free(tok);
    free(line);
    return st;
}

/* A file: validated in a first pass, spooled in a second. */
static er_status enqueue_path(er_outbox *o, const char *path, size_t batch, lines *l, size_t *n_alerts,
                              size_t *n_spooled, er_err *err)
{
    pass check = {path, true, NULL, NULL, batch, 0, n_spooled};
    pass spool = {path, false, l, o, batch, 0, n_spooled};
    for (int k = 0; k < 2; k++) {
        pass *p = k == 0 ? &check : &spool;
        FILE *f = fopen(path, "rb");
        if (!f)
            return er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", path,
                           strerror(errno));
        er_status st = scan_alerts(f, p, err);
        fclose(f);
        if (st != ER_OK)
            return st;
    }
    *n_alerts = check.n_alerts;
    if (spool.n_alerts != check.n_alerts)
        return er_errf(err, ER_EPARSE, "%s: changed while being spooled (%zu alerts, then %zu); %zu are "
                       "pending", path, check.n_alerts, spool.n_alerts, *n_spooled);
    return ER_OK;
}

er_status er_outbox_enqueue_file(er_outbox *o, const char *path, size_t batch_max, size_t *n_alerts,
                                 size_t *n_spooled, er_err *err)
{
    lines l = {0};
    size_t n = 0, spooled = 0;
    er_status st;
    if (!o || !path || batch_max < 1)
        return er_errf(err, ER_EINVAL, "er_outbox_enqueue_file: an outbox, a path and batch_max >= 1 are "
                       "required");
    if (strcmp(path, "-") == 0) {
        pass p = {"<stdin>", true, &l, NULL, batch_max, 0, &spooled};
        if ((st = scan_alerts(stdin, &p, err)) == ER_OK) {
            p.ob = o;
            st = flush_lines(&p, err);
        }
        n = p.n_alerts;
    } else {
        st = enqueue_path(o, path, batch_max, &l, &n, &spooled, err);
    }
    lines_free(&l);
    if (n_alerts)
        *n_alerts = n;
    if (n_spooled)
        *n_spooled = spooled;
    return st;
}
