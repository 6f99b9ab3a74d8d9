/*
 * report.c — the run report (analyst.h, er_report): one self-contained HTML
 * file built from a run directory's alerts.jsonl and summary.json, with an
 * optional backtest JSON and outcome store. Charts are inline SVG drawn here
 * (no network, no external assets); a few lines of inline JS only sort the
 * alert table, which is complete without it; print styles keep it readable
 * on paper. Output is deterministic: the same inputs give the same bytes.
 * Three stages: read the alerts (one row each, checked), aggregate them
 * (lanes, domains, scores, profiles, routes, origins, anomalies), render the
 * page section by section (head, overview, charts, anomalies, hit rates,
 * alert table).
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/grow.h"
#include "ecorisk/analyst.h"
#include "ecorisk/arena.h"
#include "ecorisk/profile.h"
#include "core/sbuf.h"

#define N_LANES 4
static const char *const LANES[N_LANES] = {"red", "yellow", "blue", "green"};
static const char *const LANE_COLOR[N_LANES] = {"#c0392b", "#d9a400", "#2e86c1", "#2e8b57"};
static const char *const DOMAINS[3] = {"wildlife", "ods", "waste"};
static const char *const DOMAIN_COLOR[3] = {"#2e7d32", "#7b3fa0", "#8d6e63"};

typedef struct row {
    char  *decl, *date, *domain, *profile, *title, *route, *origin, *hs, *indicators, *desc, *top_feature;
    double score, value_ref, min_p;
    double risk;          /* NaN: an alert file from before the risk field */
    size_t ord;           /* position in the alert file */
    int    lane;          /* index in LANES, -1 unknown */
    int    domain_i;      /* index in DOMAINS, -1 unknown */
    bool   random, over_capacity, has_value;
    int    outcome;       /* 1 seized, 0 not, -1 none */
} row;

typedef struct anomaly {
    size_t row;
    char  *feature, *group;
    double observed, lo, hi, p;
} anomaly;

typedef struct kv {
    char    *key;
    uint64_t n;
    uint64_t lane[N_LANES];
    uint64_t k2, n2;      /* outcomes: seized, inspected */
} kv;

typedef struct kvs {
    kv       *v;
    size_t    n, cap;
    uint32_t *slots;      /* open addressing over v: index + 1, 0 empty */
    size_t    n_slots;
} kvs;

typedef struct rep {
    row     *rows;
    size_t   n_rows, cap_rows;
    anomaly *an;
    size_t   n_an, cap_an;
    kvs      profiles, routes, origins, features;
    uint64_t lanes[N_LANES], domains[3], hist[10];
} rep;

static size_t kv_slot(const kvs *s, const char *key)
{
    size_t j = er_hash64(key, strlen(key), 0x7265706f7274ULL) & (s->n_slots - 1);
    while (s->slots[j] && strcmp(s->v[s->slots[j] - 1].key, key) != 0)
        j = (j + 1) & (s->n_slots - 1);
    return j;
}

/* Entry for key, created with zero counts when new; NULL on ENOMEM. Only while reading:
 * sorting v afterwards leaves the slots stale. */
static kv *kv_get(kvs *s, const char *key)
{
    if ((s->n + 1) * 2 > s->n_slots) {
        size_t ns = s->n_slots ? s->n_slots * 2 : 64;
        uint32_t *nsl = calloc(ns, sizeof *nsl);
        if (!nsl)
            return NULL;
        free(s->slots);
        s->slots = nsl;
        s->n_slots = ns;
        for (size_t i = 0; i < s->n; i++)
            s->slots[kv_slot(s, s->v[i].key)] = (uint32_t)i + 1;
    }
    size_t j = kv_slot(s, key);
    if (s->slots[j])
        return &s->v[s->slots[j] - 1];
    if (!er_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
        return NULL;
    kv *e = &s->v[s->n];
    memset(e, 0, sizeof *e);
    if (!(e->key = strdup(key)))
        return NULL;
    s->slots[j] = (uint32_t)++s->n;
    return e;
}

static void kvs_free(kvs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].key);
    free(s->v);
    free(s->slots);
}

static int cmp_kv_count(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int cmp_kv_key(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

/* The alert table's order (docs/analysts.md): risk descending (docs/scoring.md §6),
 * alerts without a risk last; then lane (red, yellow, blue, green, unknown last),
 * since a lane's capacity can move an alert down without changing its risk; then
 * file order. */
static int cmp_row_risk(const void *a, const void *b)
{
    const row *x = *(const row *const *)a, *y = *(const row *const *)b;
    bool nx = isnan(x->risk), ny = isnan(y->risk);
    if (nx != ny)
        return nx ? 1 : -1;
    if (!nx && x->risk != y->risk)
        return x->risk > y->risk ? -1 : 1;
    int lx = x->lane < 0 ? N_LANES : x->lane, ly = y->lane < 0 ? N_LANES : y->lane;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int cmp_anomaly(const void *a, const void *b)
{
    const anomaly *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* ---- HTML text ---- */

static void esc(er_sb *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': er_sb_puts(b, "&amp;"); break;
        case '<': er_sb_puts(b, "&lt;"); break;
        case '>': er_sb_puts(b, "&gt;"); break;
        case '"': er_sb_puts(b, "&quot;"); break;
        case '\'': er_sb_puts(b, "&#39;"); break;
        default: er_sb_putc(b, *s);
        }
    }
}

/* Text with its line breaks kept (<br>). */
static void esc_lines(er_sb *b, const char *s)
{
    for (const char *p = s; p && *p;) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        esc(b, line ? line : "");
        free(line);
        p += n;
        if (*p == '\n') {
            er_sb_puts(b, "<br>");
            p++;
        }
    }
}

/* A p-value as a number: 3 significant digits, scientific below 0.001
 * (the baseline's tails give p-values down to about 1e-300; none is shown as 0). */
static void pval(er_sb *b, double p)
{
    if (p >= 0.001)
        er_sb_printf(b, "%.3g", p);
    else if (p > 0)
        er_sb_printf(b, "%.2e", p);
    else
        er_sb_puts(b, "&lt; 1e-300");
}

static void num(er_sb *b, double x)
{
    if (!isfinite(x))
        er_sb_puts(b, "–");
    else if (x == floor(x) && fabs(x) < 1e15)
        er_sb_printf(b, "%.0f", x);
    else
        er_sb_printf(b, "%.4g", x);
}

static void pct(er_sb *b, double x)
{
    if (!isfinite(x))
        er_sb_puts(b, "–");
    else
        er_sb_printf(b, "%.1f%%", 100 * x);
}

/* ---- reading ---- */

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool jnum(json_object *o, const char *key, double *out)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return false;
    *out = json_object_get_double(v);
    return true;
}

static char *dup_or(const char *s, const char *def) { return strdup(s ? s : def); }

/* What is wrong with one alert line (NULL: it has what the report needs). */
static const char *alert_problem(json_object *a, json_object **prof, json_object **decl, double *score)
{
    if (!a || !json_object_is_type(a, json_type_object))
        return "$: expected an alert object";
    if (!json_object_object_get_ex(a, "profile", prof) || !jstr(*prof, "id"))
        return "$.profile.id: expected a string";
    if (!json_object_object_get_ex(a, "declaration", decl) || !jstr(*decl, "id"))
        return "$.declaration.id: expected a string";
    if (!jnum(a, "score", score))
        return "$.score: expected a number";
    if (!jstr(a, "lane") || !jstr(a, "domain"))
        return "$.lane / $.domain: expected strings";
    return NULL;
}

/* The row's own fields from the alert (strings copied; checked by the caller). */
static void fill_row(row *w, json_object *a, json_object *prof, json_object *decl)
{
    if (!jnum(a, "risk", &w->risk))
        w->risk = NAN;
    w->lane = -1;
    w->domain_i = -1;
    w->min_p = NAN;
    w->outcome = -1;
    const char *lane = jstr(a, "lane"), *dom = jstr(a, "domain");
    for (int i = 0; i < N_LANES; i++)
        if (strcmp(lane, LANES[i]) == 0)
            w->lane = i;
    for (int i = 0; i < 3; i++)
        if (strcmp(dom, DOMAINS[i]) == 0)
            w->domain_i = i;
    json_object *jb;
    w->random = json_object_object_get_ex(a, "random", &jb) && json_object_get_boolean(jb);
    w->over_capacity = json_object_object_get_ex(a, "over_capacity", &jb) && json_object_get_boolean(jb);
    const char *origin = jstr(decl, "origin"), *dest = jstr(decl, "destination");
    char route[16];
    snprintf(route, sizeof route, "%s → %s", origin ? origin : "?", dest ? dest : "?");
    w->has_value = jnum(decl, "value_ref", &w->value_ref);
    w->decl = dup_or(jstr(decl, "id"), "");
    w->date = dup_or(jstr(decl, "date"), "");
    w->domain = dup_or(dom, "");
    w->profile = dup_or(jstr(prof, "id"), "");
    w->title = dup_or(jstr(prof, "title"), "");
    w->route = strdup(route);
    w->origin = dup_or(origin, "?");
    w->hs = dup_or(jstr(decl, "hs"), "");
    w->desc = dup_or(jstr(decl, "description"), "");
}

/* The indicators of an alert, one line each: the reason in words, then what in
 * the declaration made it true. */
static char *indicator_lines(json_object *a, er_sb *tmp)
{
    json_object *inds;
    er_sb_reset(tmp);
    if (json_object_object_get_ex(a, "indicators", &inds) && json_object_is_type(inds, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(inds); i++) {
            json_object *ind = json_object_array_get_idx(inds, i);
            const char *id = jstr(ind, "id"), *why = jstr(ind, "reason"), *ev = jstr(ind, "evidence");
            if (!id)
                continue;
            if (tmp->len)
                er_sb_putc(tmp, '\n');
            er_sb_puts(tmp, why && *why ? why : id);
            if (ev && *ev) {
                er_sb_puts(tmp, " — ");
                er_sb_puts(tmp, ev);
            }
        }
    }
    return strdup(tmp->p ? tmp->p : "");
}

/* The anomalies of the alert in row ri: the row's lowest p, the feature counts, the anomaly list. */
static bool read_anomalies(rep *r, size_t ri, json_object *a)
{
    json_object *ans;
    row *w = &r->rows[ri];
    if (!json_object_object_get_ex(a, "anomalies", &ans) || !json_object_is_type(ans, json_type_array))
        return true;
    for (size_t i = 0; i < json_object_array_length(ans); i++) {
        json_object *x = json_object_array_get_idx(ans, i), *rg;
        double p, obs = NAN, lo = NAN, hi = NAN;
        const char *feat = jstr(x, "feature");
        if (!feat || !jnum(x, "p", &p))
            continue;
        jnum(x, "observed", &obs);
        if (json_object_object_get_ex(x, "expected_range", &rg) && json_object_is_type(rg, json_type_array) &&
            json_object_array_length(rg) == 2) {
            lo = json_object_get_double(json_object_array_get_idx(rg, 0));
            hi = json_object_get_double(json_object_array_get_idx(rg, 1));
        }
        if (!isfinite(w->min_p) || p < w->min_p) {
            w->min_p = p;
            free(w->top_feature);
            w->top_feature = strdup(feat);
        }
        if (p < 0.05) {
            kv *e = kv_get(&r->features, feat);
            if (!e)
                return false;
            e->n++;
        }
        if (!er_grow((void **)&r->an, &r->cap_an, r->n_an + 1, sizeof *r->an))
            return false;
        anomaly *an = &r->an[r->n_an++];
        *an = (anomaly){ri, strdup(feat), dup_or(jstr(x, "group"), ""), obs, lo, hi, p};
        if (!an->feature || !an->group)
            return false;
    }
    return true;
}

/* Count one row into the lane, domain, score, profile, route and origin aggregates. */
static bool aggregate_row(rep *r, const row *w)
{
    if (w->lane >= 0)
        r->lanes[w->lane]++;
    if (w->domain_i >= 0)
        r->domains[w->domain_i]++;
    int bin = (int)floor(w->score / 10);
    r->hist[bin < 0 ? 0 : bin > 9 ? 9 : bin]++;
    kv *e = kv_get(&r->profiles, w->profile);
    if (!e)
        return false;
    e->n++;
    if (w->lane >= 0)
        e->lane[w->lane]++;
    if (w->outcome >= 0) {
        e->n2++;
        e->k2 += (uint64_t)w->outcome;
    }
    if (!(e = kv_get(&r->routes, w->route)))
        return false;
    e->n++;
    if (!(e = kv_get(&r->origins, w->origin)))
        return false;
    e->n++;
    return true;
}

/* One checked alert into a new row, its anomalies and the aggregates; false on ENOMEM. */
static bool add_alert(rep *r, json_object *a, json_object *prof, json_object *decl, double score,
                      const er_outcomes *oc, er_sb *tmp)
{
    if (!er_grow((void **)&r->rows, &r->cap_rows, r->n_rows + 1, sizeof *r->rows))
        return false;
    row *w = &r->rows[r->n_rows];
    memset(w, 0, sizeof *w);
    r->n_rows++;
    w->score = score;
    w->ord = r->n_rows - 1;
    fill_row(w, a, prof, decl);
    w->indicators = indicator_lines(a, tmp);
    if (!read_anomalies(r, r->n_rows - 1, a))
        return false;
    if (!w->decl || !w->date || !w->domain || !w->profile || !w->route || !w->origin || !w->hs || !w->desc ||
        !w->indicators || tmp->oom)
        return false;
    if (oc) {
        const er_outcome *o = er_outcomes_get(oc, w->decl);
        if (o)
            w->outcome = o->seized;
    }
    return aggregate_row(r, w);
}

/* Every alert of alerts.jsonl into r, with its outcome from oc when given. */
static er_status read_alerts(rep *r, const char *path, const er_outcomes *oc, er_err *err)
{
    er_status st = ER_OK;
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    json_object *a = NULL;
    er_sb tmp = {0};
    if (!f)
        return er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", path, strerror(errno));
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        json_object_put(a);
        a = json_tokener_parse(line);
        json_object *prof = NULL, *decl = NULL;
        double score = 0;
        const char *what = alert_problem(a, &prof, &decl, &score);
        if (what) {
            st = er_errf(err, ER_EPARSE, "%s:%lu: %s", path, lineno, what);
            goto cleanup;
        }
        if (!add_alert(r, a, prof, decl, score, oc, &tmp)) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    if (ferror(f))
        st = er_errf(err, ER_EIO, "%s: read failed", path);
cleanup:
    er_sb_free(&tmp);
    json_object_put(a);
    free(line);
    fclose(f);
    return st;
}

static void rep_free(rep *r)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        row *w = &r->rows[i];
        free(w->decl); free(w->date); free(w->domain); free(w->profile); free(w->title); free(w->route);
        free(w->origin); free(w->hs); free(w->indicators); free(w->desc); free(w->top_feature);
    }
    free(r->rows);
    for (size_t i = 0; i < r->n_an; i++) {
        free(r->an[i].feature);
        free(r->an[i].group);
    }
    free(r->an);
    kvs_free(&r->profiles);
    kvs_free(&r->routes);
    kvs_free(&r->origins);
    kvs_free(&r->features);
}

/* ---- SVG charts ---- */

#define CHART_W 640

static void chart_open(er_sb *b, const char *id, const char *title, double h)
{
    er_sb_printf(b, "<figure class=\"chart\" id=\"%s\"><figcaption>", id);
    esc(b, title);
    er_sb_printf(b, "</figcaption>\n<svg class=\"chart-svg\" xmlns=\"http://www.w3.org/2000/svg\" "
                    "viewBox=\"0 0 %d %.0f\" width=\"%d\" height=\"%.0f\" role=\"img\" aria-label=\"",
                 CHART_W, h, CHART_W, h);
    esc(b, title);
    er_sb_puts(b, "\"><title>");
    esc(b, title);
    er_sb_puts(b, "</title>\n");
}

static void chart_close(er_sb *b) { er_sb_puts(b, "</svg></figure>\n"); }

/* Axis for counts: a step of 1, 2 or 5 times a power of ten (at least 1), at most 5 ticks. */
static double axis_step(double m, double *mx)
{
    double step = 1;
    if (m > 5) {
        double p = pow(10, floor(log10(m / 5)));
        step = p;
        if (m / step > 5) step = 2 * p;
        if (m / step > 5) step = 5 * p;
        if (m / step > 5) step = 10 * p;
    }
    *mx = m <= 0 ? 1 : ceil(m / step - 1e-9) * step;
    return step;
}

static void no_data(er_sb *b, double y)
{
    er_sb_printf(b, "<text x=\"%d\" y=\"%.0f\" class=\"muted\" text-anchor=\"middle\">no data</text>\n",
                 CHART_W / 2, y);
}

/* Horizontal bars: label, value, colour per bar; stacked segments when seg != NULL. */
/* Labels left of a bar chart get 182 px, about 26 characters at 12 px: a longer
 * one is cut to 25 characters and "…" (the bar's tooltip keeps it whole), so no
 * label runs off the chart's left edge. */
#define LABEL_CHARS 26
static void label_fit(er_sb *b, const char *s)
{
    size_t chars = 0, cut = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80 && ++chars == LABEL_CHARS)
            cut = (size_t)((const char *)p - s);
    if (chars <= LABEL_CHARS) {
        esc(b, s);
        return;
    }
    char *head = strndup(s, cut);
    esc(b, head ? head : "");
    free(head);
    er_sb_puts(b, "…");
}

static void hbar(er_sb *b, const char *id, const char *title, const char *const *labels, const double *values,
                 size_t n, const char *const *colors, const char *color1)
{
    double rowh = 24, top = 10, h = top + (n ? (double)n : 1) * rowh + 28;
    double x0 = 190, w = CHART_W - x0 - 60, mx = 0;
    for (size_t i = 0; i < n; i++)
        if (values[i] > mx)
            mx = values[i];
    double step = axis_step(mx, &mx);
    chart_open(b, id, title, h);
    if (!n)
        no_data(b, top + 16);
    for (double v = 0; v <= mx + 1e-9 && n; v += step) {
        double x = x0 + w * v / mx;
        er_sb_printf(b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"grid\"/>"
                        "<text x=\"%.1f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">",
                     x, top, x, top + (double)n * rowh, x, top + (double)n * rowh + 16);
        num(b, v);
        er_sb_puts(b, "</text>\n");
    }
    for (size_t i = 0; i < n; i++) {
        double y = top + (double)i * rowh, bw = mx > 0 ? w * values[i] / mx : 0;
        er_sb_printf(b, "<g class=\"bar\"><text x=\"%.0f\" y=\"%.1f\" class=\"label\" text-anchor=\"end\">", x0 - 8,
                     y + rowh / 2 + 4);
        label_fit(b, labels[i]);
        er_sb_printf(b, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"><title>", x0,
                     y + 4, bw, rowh - 8, colors ? colors[i] : color1);
        esc(b, labels[i]);
        er_sb_puts(b, ": ");
        num(b, values[i]);
        er_sb_printf(b, "</title></rect><text x=\"%.1f\" y=\"%.1f\" class=\"value\">", x0 + bw + 5, y + rowh / 2 + 4);
        num(b, values[i]);
        er_sb_puts(b, "</text></g>\n");
    }
    chart_close(b);
}

/* Profiles: bars stacked by lane. */
static void profile_chart(er_sb *b, const kvs *p)
{
    double rowh = 24, top = 34, h = top + (p->n ? (double)p->n : 1) * rowh + 28;
    double x0 = 230, w = CHART_W - x0 - 50, mx = 0;
    for (size_t i = 0; i < p->n; i++)
        if ((double)p->v[i].n > mx)
            mx = (double)p->v[i].n;
    double step = axis_step(mx, &mx);
    chart_open(b, "chart-profiles", "Alerts per profile, by lane", h);
    for (int l = 0; l < N_LANES; l++)
        er_sb_printf(b, "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                        "<text x=\"%d\" y=\"18\" class=\"tick\">%s</text>\n",
                     20 + l * 90, LANE_COLOR[l], 36 + l * 90, LANES[l]);
    if (!p->n)
        no_data(b, top + 16);
    for (double v = 0; v <= mx + 1e-9 && p->n; v += step) {
        double x = x0 + w * v / mx;
        er_sb_printf(b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"grid\"/>"
                        "<text x=\"%.1f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">",
                     x, top, x, top + (double)p->n * rowh, x, top + (double)p->n * rowh + 16);
        num(b, v);
        er_sb_puts(b, "</text>\n");
    }
    for (size_t i = 0; i < p->n; i++) {
        const kv *e = &p->v[i];
        double y = top + (double)i * rowh, x = x0;
        er_sb_printf(b, "<g class=\"bar\"><text x=\"%.0f\" y=\"%.1f\" class=\"label\" text-anchor=\"end\">", x0 - 8,
                     y + rowh / 2 + 4);
        label_fit(b, e->key);
        er_sb_puts(b, "</text>");
        for (int l = 0; l < N_LANES; l++) {
            if (!e->lane[l])
                continue;
            double bw = w * (double)e->lane[l] / mx;
            er_sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"><title>", x, y + 4,
                         bw, rowh - 8, LANE_COLOR[l]);
            esc(b, e->key);
            er_sb_printf(b, ", %s: %llu</title></rect>", LANES[l], (unsigned long long)e->lane[l]);
            x += bw;
        }
        er_sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"value\">%llu</text></g>\n", x + 5, y + rowh / 2 + 4,
                     (unsigned long long)e->n);
    }
    chart_close(b);
}

/* Score histogram, 10 bins of 10 points. */
static void histogram(er_sb *b, const uint64_t hist[10])
{
    double h = 240, x0 = 50, y0 = 200, w = CHART_W - x0 - 20, mx = 0;
    for (int i = 0; i < 10; i++)
        if ((double)hist[i] > mx)
            mx = (double)hist[i];
    double step = axis_step(mx, &mx);
    chart_open(b, "chart-scores", "Score distribution of alerts", h);
    for (double v = 0; v <= mx + 1e-9; v += step) {
        double y = y0 - 180.0 * v / mx;
        er_sb_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" class=\"grid\"/>"
                        "<text x=\"%.0f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">",
                     x0, y, x0 + w, y, x0 - 6, y + 4);
        num(b, v);
        er_sb_puts(b, "</text>\n");
    }
    double bw = w / 10;
    for (int i = 0; i < 10; i++) {
        double bh = 180.0 * (double)hist[i] / mx;
        er_sb_printf(b, "<g class=\"bar\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#34495e\">"
                        "<title>score %d–%d: %llu</title></rect>"
                        "<text x=\"%.1f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">%d</text></g>\n",
                     x0 + bw * i + 2, y0 - bh, bw - 4, bh, i * 10, i == 9 ? 100 : i * 10 + 10,
                     (unsigned long long)hist[i], x0 + bw * i, y0 + 16, i * 10);
    }
    er_sb_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">100</text>\n", x0 + w, y0 + 16);
    er_sb_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">score</text>\n",
                 x0 + w / 2, y0 + 34);
    chart_close(b);
}

typedef struct interval_row {
    const char *label;
    double      rate, lo, hi;
    uint64_t    k, n;
} interval_row;

/* Hit rates as dots with Wilson interval whiskers, and the base rate as a dashed line. */
static void interval_chart(er_sb *b, const char *id, const char *title, const interval_row *rows, size_t n,
                           double base)
{
    double rowh = 24, top = 30, h = top + (n ? (double)n : 1) * rowh + 30;
    double x0 = 230, w = CHART_W - x0 - 90;
    chart_open(b, id, title, h);
    if (!n)
        no_data(b, top + 16);
    for (int t = 0; t <= 4 && n; t++) {
        double x = x0 + w * t / 4;
        er_sb_printf(b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"grid\"/>"
                        "<text x=\"%.1f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">%d%%</text>\n",
                     x, top, x, top + (double)n * rowh, x, top + (double)n * rowh + 16, t * 25);
    }
    if (n && isfinite(base)) {
        double x = x0 + w * base;
        er_sb_printf(b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"base\"/>"
                        "<text x=\"%.1f\" y=\"%.0f\" class=\"tick\" text-anchor=\"middle\">base rate ",
                     x, top - 4, x, top + (double)n * rowh, x, top - 10);
        pct(b, base);
        er_sb_puts(b, "</text>\n");
    }
    for (size_t i = 0; i < n; i++) {
        const interval_row *r = &rows[i];
        double y = top + (double)i * rowh + rowh / 2;
        er_sb_printf(b, "<g class=\"interval\"><text x=\"%.0f\" y=\"%.1f\" class=\"label\" text-anchor=\"end\">",
                     x0 - 8, y + 4);
        esc(b, r->label);
        er_sb_puts(b, "</text>");
        if (r->n) {
            er_sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"whisker\"/>"
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" class=\"dot\"><title>",
                         x0 + w * r->lo, y, x0 + w * r->hi, y, x0 + w * r->rate, y);
            esc(b, r->label);
            er_sb_printf(b, ": %llu of %llu (", (unsigned long long)r->k, (unsigned long long)r->n);
            pct(b, r->rate);
            er_sb_puts(b, ", 95% interval ");
            pct(b, r->lo);
            er_sb_puts(b, "–");
            pct(b, r->hi);
            er_sb_puts(b, ")</title></circle>");
        }
        er_sb_printf(b, "<text x=\"%.0f\" y=\"%.1f\" class=\"value\">", x0 + w + 10, y + 4);
        if (r->n) {
            pct(b, r->rate);
            er_sb_printf(b, " (%llu/%llu)", (unsigned long long)r->k, (unsigned long long)r->n);
        } else {
            er_sb_puts(b, "no alerts");
        }
        er_sb_puts(b, "</text></g>\n");
    }
    chart_close(b);
}

/* ---- page ---- */

static const char CSS[] =
    "body{font-family:-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1f2933;"
    "margin:0;background:#f4f6f8;font-size:14px;line-height:1.45}\n"
    "header{background:#1f3a4d;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px;font-weight:600}"
    "header p{margin:4px 0 0;color:#c9d6df}\n"
    "main{padding:20px 32px;max-width:1400px}\n"
    "section{background:#fff;border:1px solid #dde3e8;border-radius:6px;padding:14px 18px;margin:0 0 18px}\n"
    "h2{font-size:17px;margin:0 0 10px;color:#1f3a4d}\n"
    ".kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{flex:1 1 130px;background:#f8fafb;border:1px solid #e4e9ed;"
    "border-radius:6px;padding:10px 12px}.kpi b{display:block;font-size:22px;color:#1f3a4d}.kpi span{color:#52606d;"
    "font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    ".grid2{display:flex;flex-wrap:wrap;gap:18px}.grid2>figure{flex:1 1 540px}\n"
    "figure{margin:0;break-inside:avoid}figcaption{font-weight:600;margin:0 0 6px;color:#323f4b}\n"
    "svg{max-width:100%;height:auto;font-size:12px}.grid{stroke:#e4e7eb}.tick{fill:#616e7c;font-size:11px}"
    ".label{fill:#323f4b}.value{fill:#323f4b;font-size:11px}.muted{fill:#9aa5b1}"
    ".base{stroke:#c0392b;stroke-dasharray:4 3}.whisker{stroke:#1f3a4d;stroke-width:2}.dot{fill:#1f3a4d}\n"
    "table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;"
    "text-align:left;vertical-align:top}td.nw{white-space:nowrap}td.why{min-width:18em}td.goods{min-width:12em}th{background:#f0f3f5;position:sticky;top:0;cursor:pointer;"
    "white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}\n"
    ".lane{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:11px;font-weight:600}"
    ".lane-red{background:#c0392b}.lane-yellow{background:#d9a400}.lane-blue{background:#2e86c1}"
    ".lane-green{background:#2e8b57}.tag{color:#7b8794;font-size:11px}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dl.meta dt{color:#616e7c}"
    "dl.meta dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}\n"
    "footer{color:#7b8794;font-size:12px;padding:0 32px 24px}\n"
    "@media print{body{background:#fff;font-size:10pt}header{background:#fff;color:#000;padding:0 0 8px;"
    "border-bottom:2px solid #000}header p{color:#333}main{padding:0;max-width:none}section{border:none;padding:0;"
    "margin:0 0 14px}th{position:static;background:#eee}.noprint{display:none}tr{break-inside:avoid}"
    "th[aria-sort]::after{content:''}.lane{color:#000;border:1px solid #000;background:#fff!important}"
    "h2{break-after:avoid}}\n@page{size:A4;margin:14mm}\n";

static const char JS[] =
    "(function(){var t=document.getElementById('alert-table');if(!t)return;var hs=t.tHead.rows[0].cells;"
    "for(var i=0;i<hs.length;i++)(function(c){hs[c].addEventListener('click',function(){"
    "var h=hs[c],asc=h.getAttribute('aria-sort')!=='ascending',num=h.classList.contains('n'),"
    "b=t.tBodies[0],r=Array.prototype.slice.call(b.rows);"
    "for(var j=0;j<hs.length;j++)hs[j].removeAttribute('aria-sort');h.setAttribute('aria-sort',asc?'ascending':'descending');"
    "r.sort(function(x,y){var a=x.cells[c].getAttribute('data-v')||x.cells[c].textContent,"
    "d=y.cells[c].getAttribute('data-v')||y.cells[c].textContent,v;"
    "if(num){a=parseFloat(a);d=parseFloat(d);if(isNaN(a))a=-Infinity;if(isNaN(d))d=-Infinity;v=a-d;}"
    "else v=a.localeCompare(d);if(!v)v=x.rowIndex-y.rowIndex;return asc?v:-v;});"
    "r.forEach(function(x){b.appendChild(x);});});})(i);})();\n";

static void kpi(er_sb *b, const char *label, double v)
{
    er_sb_puts(b, "<div class=\"kpi\"><b>");
    num(b, v);
    er_sb_puts(b, "</b><span>");
    esc(b, label);
    er_sb_puts(b, "</span></div>");
}

static double jget(json_object *o, const char *a, const char *k)
{
    json_object *x;
    double v = NAN;
    if (a && (!json_object_object_get_ex(o, a, &x) || !(o = x)))
        return NAN;
    jnum(o, k, &v);
    return v;
}

static er_status write_out(const char *path, const er_sb *b, er_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return er_errf(err, ER_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    bool ok = fwrite(b->p, 1, b->len, f) == b->len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return er_errf(err, ER_EIO, "%s: write failed: %s", path, strerror(e));
    }
    return ER_OK;
}

/* One report being written: its inputs and the page. */
typedef struct page {
    const er_report_opts *o;
    rep           r;
    er_sb         b;
    json_object  *sum, *bt;
    er_outcomes  *oc;
    size_t        top;
    const char  **labels;   /* scratch for the bar charts */
    double       *values;
} page;

/* summary.json, the backtest and the outcome store when given, and alerts.jsonl. */
static er_status load_inputs(page *pg, er_err *err)
{
    const er_report_opts *o = pg->o;
    char path[4096];
    er_status st;
    snprintf(path, sizeof path, "%s/summary.json", o->run_dir);
    if (!(pg->sum = json_object_from_file(path)) || !json_object_is_type(pg->sum, json_type_object))
        return er_errf(err, access(path, R_OK) == 0 ? ER_EPARSE : ER_ENOTFOUND, "%s: cannot read the run summary (%s)",
                       path, access(path, R_OK) == 0 ? "not a JSON object" : strerror(errno));
    if (o->backtest) {
        json_object *k;
        if (!(pg->bt = json_object_from_file(o->backtest)))
            return er_errf(err, access(o->backtest, R_OK) == 0 ? ER_EPARSE : ER_ENOTFOUND,
                           "%s: cannot read the backtest (%s)", o->backtest, json_util_get_last_err());
        if (!json_object_object_get_ex(pg->bt, "kind", &k) || strcmp(json_object_get_string(k), "backtest") != 0 ||
            !json_object_object_get_ex(pg->bt, "profiles", &k) || !json_object_is_type(k, json_type_array))
            return er_errf(err, ER_EFORMAT, "%s: $.kind: expected a backtest JSON from 'ecorisk backtest --out'",
                           o->backtest);
    }
    if (o->outcomes && (st = er_outcomes_load(&pg->oc, o->outcomes, err)) != ER_OK)
        return st;
    snprintf(path, sizeof path, "%s/alerts.jsonl", o->run_dir);
    return read_alerts(&pg->r, path, pg->oc, err);
}

/* The page title: --title, or the run id. */
static void page_title(page *pg, const char *prefix, const char *run_id)
{
    if (pg->o->title) {
        esc(&pg->b, pg->o->title);
        return;
    }
    er_sb_puts(&pg->b, prefix);
    esc(&pg->b, run_id ? run_id : "");
}

/* <head> with the styles, and the page header. */
static void render_head(page *pg)
{
    er_sb *b = &pg->b;
    const char *run_id = jstr(pg->sum, "run_id");
    er_sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>");
    page_title(pg, "ecorisk run ", run_id);
    er_sb_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>", CSS);
    page_title(pg, "Risk profiling run ", run_id);
    er_sb_puts(b, "</h1><p>");
    json_object *dates;
    if (json_object_object_get_ex(pg->sum, "dates", &dates) && json_object_is_type(dates, json_type_array) &&
        json_object_array_length(dates) == 2) {
        er_sb_puts(b, "Declarations dated ");
        esc(b, json_object_get_string(json_object_array_get_idx(dates, 0)));
        er_sb_puts(b, " to ");
        esc(b, json_object_get_string(json_object_array_get_idx(dates, 1)));
        er_sb_puts(b, " · ");
    }
    er_sb_printf(b, "%zu alerts", pg->r.n_rows);
    er_sb_puts(b, "</p></header>\n<main>\n");
}

/* Key figures and the run's identity. */
static void render_overview(page *pg)
{
    er_sb *b = &pg->b;
    json_object *sum = pg->sum, *feeds;
    const char *run_id = jstr(sum, "run_id");
    er_sb_puts(b, "<section id=\"overview\"><h2>Overview</h2><div class=\"kpis\">");
    kpi(b, "rows read", jget(sum, "rows", "read"));
    kpi(b, "accepted", jget(sum, "rows", "accepted"));
    kpi(b, "quarantined", jget(sum, "rows", "quarantined"));
    kpi(b, "in scope", jget(sum, NULL, "in_scope"));
    kpi(b, "alerts", (double)pg->r.n_rows);
    kpi(b, "random controls", jget(sum, "alerts", "random"));
    kpi(b, "over capacity", jget(sum, "alerts", "over_capacity"));
    er_sb_puts(b, "</div>\n<dl class=\"meta\" style=\"margin-top:12px\"><dt>run id</dt><dd>");
    esc(b, run_id ? run_id : "");
    er_sb_puts(b, "</dd><dt>baseline id</dt><dd>");
    esc(b, jstr(sum, "baseline_id") && *jstr(sum, "baseline_id") ? jstr(sum, "baseline_id") : "none");
    er_sb_puts(b, "</dd><dt>profile set</dt><dd>");
    esc(b, jstr(sum, "profile_set") ? jstr(sum, "profile_set") : "");
    er_sb_puts(b, "</dd><dt>feeds</dt><dd>");
    if (json_object_object_get_ex(sum, "feeds", &feeds) && json_object_is_type(feeds, json_type_array))
        for (size_t i = 0; i < json_object_array_length(feeds); i++) {
            if (i)
                er_sb_puts(b, ", ");
            esc(b, json_object_get_string(json_object_array_get_idx(feeds, i)));
        }
    er_sb_puts(b, "</dd></dl></section>\n");
}

/* A bar chart of the n most frequent keys of s (sorted by count first). */
static void kv_bars(page *pg, kvs *s, size_t n, const char *id, const char *title, const char *color)
{
    if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_kv_count);
    n = s->n < n ? s->n : n;
    for (size_t i = 0; i < n; i++) {
        pg->labels[i] = s->v[i].key;
        pg->values[i] = (double)s->v[i].n;
    }
    hbar(&pg->b, id, title, pg->labels, pg->values, n, NULL, color);
}

/* Alerts per domain, lane and profile, and the score histogram; then routes and origins. */
static void render_charts(page *pg)
{
    er_sb *b = &pg->b;
    rep *r = &pg->r;
    er_sb_puts(b, "<section id=\"alerts-charts\"><h2>Alerts</h2><div class=\"grid2\">\n");
    for (int i = 0; i < 3; i++) {
        pg->labels[i] = DOMAINS[i];
        pg->values[i] = (double)r->domains[i];
    }
    hbar(b, "chart-domains", "Alerts per domain", pg->labels, pg->values, 3, DOMAIN_COLOR, NULL);
    for (int i = 0; i < N_LANES; i++) {
        pg->labels[i] = LANES[i];
        pg->values[i] = (double)r->lanes[i];
    }
    hbar(b, "chart-lanes", "Alerts per lane", pg->labels, pg->values, N_LANES, LANE_COLOR, NULL);
    if (r->profiles.n) qsort(r->profiles.v, r->profiles.n, sizeof *r->profiles.v, cmp_kv_count);
    profile_chart(b, &r->profiles);
    histogram(b, r->hist);
    er_sb_puts(b, "</div></section>\n<section id=\"flows\"><h2>Routes and origins</h2><div class=\"grid2\">\n");
    char title[128];
    snprintf(title, sizeof title, "Top %zu routes (origin → destination)", pg->top);
    kv_bars(pg, &r->routes, pg->top, "chart-routes", title, "#1f6f8b");
    snprintf(title, sizeof title, "Top %zu origins", pg->top);
    kv_bars(pg, &r->origins, pg->top, "chart-origins", title, "#3d7ea6");
}

/* Anomalies by feature, and the top anomalies (lowest p) as a table. */
static void render_anomalies(page *pg)
{
    er_sb *b = &pg->b;
    rep *r = &pg->r;
    er_sb_puts(b, "</div></section>\n<section id=\"anomalies\"><h2>Anomalies</h2><div class=\"grid2\">\n");
    kv_bars(pg, &r->features, r->features.n, "chart-anomalies", "Alerts with an anomaly at p < 0.05, by feature",
            "#b9770e");
    er_sb_puts(b, "</div>\n");
    if (r->n_an) qsort(r->an, r->n_an, sizeof *r->an, cmp_anomaly);
    size_t na = r->n_an < pg->top ? r->n_an : pg->top;
    er_sb_printf(b, "<h3>Top %zu anomalies (lowest p)</h3>\n<table class=\"anomaly-table\"><thead><tr><th>declaration</th>"
                    "<th>profile</th><th>feature</th><th>group</th><th class=\"n\">observed</th>"
                    "<th class=\"n\">expected range</th><th class=\"n\">p</th></tr></thead><tbody>\n", pg->top);
    for (size_t i = 0; i < na; i++) {
        const anomaly *a = &r->an[i];
        const row *w = &r->rows[a->row];
        const char *text[4] = {w->decl, w->profile, a->feature, a->group};
        er_sb_puts(b, "<tr>");
        for (int k = 0; k < 4; k++) {
            er_sb_puts(b, "<td>");
            esc(b, text[k]);
            er_sb_puts(b, "</td>");
        }
        er_sb_puts(b, "<td class=\"n\">");
        num(b, a->observed);
        er_sb_puts(b, "</td><td class=\"n\">");
        num(b, a->lo);
        er_sb_puts(b, " – ");
        num(b, a->hi);
        er_sb_puts(b, "</td><td class=\"n\">");
        pval(b, a->p);
        er_sb_puts(b, "</td></tr>\n");
    }
    if (!na)
        er_sb_puts(b, "<tr><td colspan=\"7\">no anomalies in these alerts</td></tr>\n");
    er_sb_puts(b, "</tbody></table></section>\n");
}

/* The backtest's hit rate per profile with its interval. */
static er_status backtest_chart(page *pg, er_err *err)
{
    json_object *profs, *decls;
    json_object_object_get_ex(pg->bt, "profiles", &profs);
    double base = NAN;
    if (json_object_object_get_ex(pg->bt, "declarations", &decls))
        jnum(decls, "base_rate", &base);
    size_t np = json_object_array_length(profs);
    interval_row *iv = calloc(np + 1, sizeof *iv);
    if (!iv)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t i = 0; i < np; i++) {
        json_object *p = json_object_array_get_idx(profs, i), *ci;
        double al = 0, hi = 0;
        jnum(p, "alerts", &al);
        jnum(p, "hits", &hi);
        iv[i].label = jstr(p, "id") ? jstr(p, "id") : "?";
        iv[i].n = (uint64_t)al;
        iv[i].k = (uint64_t)hi;
        iv[i].rate = al > 0 ? hi / al : NAN;
        iv[i].lo = iv[i].hi = NAN;
        if (json_object_object_get_ex(p, "hit_rate_ci", &ci) && json_object_is_type(ci, json_type_array) &&
            json_object_array_length(ci) == 2) {
            iv[i].lo = json_object_get_double(json_object_array_get_idx(ci, 0));
            iv[i].hi = json_object_get_double(json_object_array_get_idx(ci, 1));
        }
    }
    interval_chart(&pg->b, "chart-backtest", "Backtest hit rate per profile (95% Wilson interval)", iv, np, base);
    free(iv);
    return ER_OK;
}

/* The seizure rate of inspected alerts per profile, from the outcome store. */
static er_status outcome_chart(page *pg, er_err *err)
{
    kvs *pr = &pg->r.profiles;
    if (pr->n) qsort(pr->v, pr->n, sizeof *pr->v, cmp_kv_key);
    interval_row *iv = calloc(pr->n + 1, sizeof *iv);
    if (!iv)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t i = 0; i < pr->n; i++) {
        const kv *e = &pr->v[i];
        iv[i].label = e->key;
        iv[i].n = e->n2;
        iv[i].k = e->k2;
        iv[i].rate = e->n2 ? (double)e->k2 / (double)e->n2 : NAN;
        er_wilson(e->k2, e->n2, 0.95, &iv[i].lo, &iv[i].hi);
    }
    interval_chart(&pg->b, "chart-outcomes", "Seizure rate of inspected alerts, from recorded outcomes (95% Wilson)",
                   iv, pr->n, NAN);
    free(iv);
    return ER_OK;
}

/* The backtest ranking's precision at its inspection rates, as a table. */
static void rank_table(page *pg)
{
    er_sb *b = &pg->b;
    json_object *rk, *at;
    if (!json_object_object_get_ex(pg->bt, "ranking", &rk) || !json_object_object_get_ex(rk, "at", &at) ||
        !json_object_is_type(at, json_type_array))
        return;
    er_sb_puts(b, "<h3>Precision at inspection rates (backtest ranking)</h3>\n<table class=\"rank-table\">"
                  "<thead><tr><th class=\"n\">inspection rate</th><th class=\"n\">inspected</th>"
                  "<th class=\"n\">hits</th><th class=\"n\">precision</th><th class=\"n\">recall</th>"
                  "<th class=\"n\">lift</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < json_object_array_length(at); i++) {
        json_object *x = json_object_array_get_idx(at, i);
        double v;
        er_sb_puts(b, "<tr><td class=\"n\">");
        pct(b, jnum(x, "rate", &v) ? v : NAN);
        er_sb_puts(b, "</td><td class=\"n\">");
        num(b, jnum(x, "inspected", &v) ? v : NAN);
        er_sb_puts(b, "</td><td class=\"n\">");
        num(b, jnum(x, "hits", &v) ? v : NAN);
        er_sb_puts(b, "</td><td class=\"n\">");
        pct(b, jnum(x, "precision", &v) ? v : NAN);
        er_sb_puts(b, "</td><td class=\"n\">");
        pct(b, jnum(x, "recall", &v) ? v : NAN);
        er_sb_puts(b, "</td><td class=\"n\">");
        er_sb_printf(b, "%.2f", jnum(x, "lift", &v) ? v : 0.0);
        er_sb_puts(b, "</td></tr>\n");
    }
    er_sb_puts(b, "</tbody></table>\n");
}

/* Hit rates: from the backtest and / or from recorded outcomes. */
static er_status render_hit_rates(page *pg, er_err *err)
{
    er_status st;
    if (!pg->bt && !pg->oc)
        return ER_OK;
    er_sb_puts(&pg->b, "<section id=\"hit-rates\"><h2>Profile hit rates</h2><div class=\"grid2\">\n");
    if (pg->bt && (st = backtest_chart(pg, err)) != ER_OK)
        return st;
    if (pg->oc && (st = outcome_chart(pg, err)) != ER_OK)
        return st;
    er_sb_puts(&pg->b, "</div>\n");
    if (pg->bt)
        rank_table(pg);
    er_sb_puts(&pg->b, "</section>\n");
    return ER_OK;
}

/* One row of the alert table (rank i + 1). */
static void alert_row(er_sb *b, size_t i, const row *w, bool outcomes)
{
    er_sb_printf(b, "<tr><td class=\"n\">%zu</td><td>", i + 1);
    esc(b, w->decl);
    er_sb_puts(b, "</td><td class=\"nw\">");
    esc(b, w->date);
    er_sb_puts(b, "</td><td>");
    esc(b, w->domain);
    er_sb_puts(b, "</td><td>");
    esc(b, w->profile);
    if (*w->title) {
        er_sb_puts(b, "<br><span class=\"tag\">");
        esc(b, w->title);
        er_sb_puts(b, "</span>");
    }
    if (isnan(w->risk))
        er_sb_puts(b, "</td><td class=\"n\" data-v=\"-1\">–");
    else
        er_sb_printf(b, "</td><td class=\"n\" data-v=\"%.17g\">%.4f", w->risk, w->risk);
    er_sb_printf(b, "</td><td class=\"n\" data-v=\"%.6g\">", w->score);
    num(b, w->score);
    er_sb_printf(b, "</td><td data-v=\"%d\"><span class=\"lane lane-", w->lane >= 0 ? N_LANES - w->lane : 0);
    esc(b, w->lane >= 0 ? LANES[w->lane] : "unknown");
    er_sb_puts(b, "\">");
    esc(b, w->lane >= 0 ? LANES[w->lane] : "?");
    er_sb_puts(b, "</span>");
    if (w->random)
        er_sb_puts(b, " <span class=\"tag\">random</span>");
    if (w->over_capacity)
        er_sb_puts(b, " <span class=\"tag\">over capacity</span>");
    er_sb_puts(b, "</td><td>");
    esc(b, w->hs);
    er_sb_puts(b, "</td><td class=\"goods\">");
    esc(b, w->desc);
    er_sb_puts(b, "</td><td class=\"nw\">");
    esc(b, w->route);
    if (w->has_value)
        er_sb_printf(b, "</td><td class=\"n\" data-v=\"%.17g\">%.0f", w->value_ref, w->value_ref);
    else
        er_sb_puts(b, "</td><td class=\"n\" data-v=\"\">–");
    er_sb_puts(b, "</td><td class=\"why\">");
    esc_lines(b, w->indicators);
    if (isfinite(w->min_p)) {
        er_sb_printf(b, "</td><td class=\"n\" data-v=\"%.6g\">", w->min_p);
        pval(b, w->min_p);
        er_sb_puts(b, " <span class=\"tag\">");
        esc(b, w->top_feature ? w->top_feature : "");
        er_sb_puts(b, "</span>");
    } else {
        er_sb_puts(b, "</td><td class=\"n\" data-v=\"\">–");
    }
    if (outcomes)
        er_sb_printf(b, "</td><td>%s", w->outcome < 0 ? "" : w->outcome ? "seized" : "nothing found");
    er_sb_puts(b, "</td></tr>\n");
}

/* The alert table: every alert (up to --max-rows), by risk; sortable with JS, complete without. */
static er_status render_alert_table(page *pg, er_err *err)
{
    er_sb *b = &pg->b;
    rep *r = &pg->r;
    const row **by_risk = malloc((r->n_rows ? r->n_rows : 1) * sizeof *by_risk);
    if (!by_risk)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_rows; i++)
        by_risk[i] = &r->rows[i];
    if (r->n_rows)
        qsort(by_risk, r->n_rows, sizeof *by_risk, cmp_row_risk);
    er_sb_printf(b, "<section id=\"alerts\"><h2>Alerts by risk (%zu)</h2>"
                    "<p class=\"noprint tag\">Click a column header to sort.</p>\n"
                    "<table id=\"alert-table\" class=\"sortable\"><thead><tr><th class=\"n\">#</th><th>declaration</th>"
                    "<th>date</th><th>domain</th><th>profile</th><th class=\"n\">risk</th><th class=\"n\">score</th>"
                    "<th>lane</th><th>HS</th><th>goods</th>"
                    "<th>route</th><th class=\"n\">value (ref)</th><th>why (reason — evidence)</th>"
                    "<th class=\"n\">lowest p</th>%s"
                    "</tr></thead>\n<tbody>\n",
                 r->n_rows, pg->oc ? "<th>outcome</th>" : "");
    size_t shown = pg->o->max_rows && pg->o->max_rows < r->n_rows ? pg->o->max_rows : r->n_rows;
    if (shown < r->n_rows)
        er_sb_printf(b, "<tr><td colspan=\"%d\" class=\"tag\">The %zu highest-risk alerts of %zu "
                        "(report --max-rows); alerts.jsonl holds them all.</td></tr>\n",
                     pg->oc ? 14 : 13, shown, r->n_rows);
    for (size_t i = 0; i < shown; i++)
        alert_row(b, i, by_risk[i], pg->oc != NULL);
    er_sb_puts(b, "</tbody></table></section>\n</main>\n<footer>Generated by ecorisk from ");
    esc(b, pg->o->run_dir);
    er_sb_puts(b, ". Scores are 0–100 per profile; lanes: red physical examination, yellow documentary check, "
                  "blue post-clearance audit, green release. p-values are tail probabilities against the "
                  "baseline; hit-rate intervals are 95% Wilson score intervals.</footer>\n");
    er_sb_printf(b, "<script>\n%s</script>\n</body></html>\n", JS);
    free(by_risk);
    return ER_OK;
}

er_status er_report(const er_report_opts *o, er_err *err)
{
    er_status st = ER_OK;
    page pg = {.o = o, .top = o->top ? o->top : 10};
    rep *r = &pg.r;

    if ((st = load_inputs(&pg, err)) != ER_OK)
        goto cleanup;
    size_t nmax = r->profiles.n > r->routes.n ? r->profiles.n : r->routes.n;
    if (r->origins.n > nmax)
        nmax = r->origins.n;
    if (r->features.n > nmax)
        nmax = r->features.n;
    pg.labels = calloc(nmax + 8, sizeof *pg.labels);
    pg.values = calloc(nmax + 8, sizeof *pg.values);
    if (!pg.labels || !pg.values) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    render_head(&pg);
    render_overview(&pg);
    render_charts(&pg);
    render_anomalies(&pg);
    if ((st = render_hit_rates(&pg, err)) != ER_OK || (st = render_alert_table(&pg, err)) != ER_OK)
        goto cleanup;
    if (pg.b.oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    st = write_out(o->out, &pg.b, err);
cleanup:
    free(pg.values);
    free(pg.labels);
    er_outcomes_free(pg.oc);
    json_object_put(pg.bt);
    json_object_put(pg.sum);
    er_sb_free(&pg.b);
    rep_free(&pg.r);
    return st;
}
