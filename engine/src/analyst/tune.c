/*
 * tune.c — fitting a pack's indicator weights to labelled outcomes
 * (analyst.h, er_tune): every declaration is scored with the pack as the run
 * does; per profile, the indicators that fired (0/1, anomaly indicators
 * included) are the features of an L2-regularised logistic regression fitted
 * on the earlier part of the history (time-ordered split). The tuned copy of
 * the pack gets weights proportional to the positive coefficients, rescaled so
 * each profile keeps its total weight (so its thresholds keep their meaning),
 * and a new version. The later part of the history then measures precision
 * at 1 %, 5 % and 10 % inspection for the original and the tuned pack, both
 * scored by the engine itself, and for the fitted model, next to the base rate.
 * er_tune runs one step per job: check the options, load the labelled
 * declarations, split by date, fit each profile, write and re-score the tuned
 * pack, test, then the JSON and the table.
 */
#include <errno.h>
#include <stdint.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/grow.h"
#include "analyst/analyst_int.h"
#include "ecorisk/score.h"

static const double RATES[] = {0.01, 0.05, 0.10};
#define N_RATES (sizeof RATES / sizeof RATES[0])

typedef struct drec {
    int32_t  date;
    int8_t   label;
    double   top;        /* risk with the original pack (docs/scoring.md §6) */
    double   top_tuned;  /* same with the tuned pack (second pass) */
    double   model;      /* highest fitted probability over in-scope profiles */
    uint32_t off;        /* first entry in the results array */
    uint16_t n;
} drec;

typedef struct pres {
    uint32_t profile;
    uint64_t fired;
} pres;

typedef struct tn {
    const er_profileset *ps;
    const er_baseline   *bl;
    er_eval             *ev;
    drec                *d;
    size_t               n, cap;
    pres                *r;
    size_t               nr, capr;
    bool                 second;   /* second pass: tuned scores */
} tn;

static er_status on_decl(void *ud, const er_decl *d, uint64_t order, int label, er_err *err)
{
    tn *t = ud;
    er_decl_score sc;
    if (t->second) {
        if (order >= t->n)
            return er_errf(err, ER_EINTERNAL, "the feed changed between the two passes");
        if (t->d[order].label >= 0) {
            er_score_decl(t->ps, t->bl, t->ev, d, &sc);
            t->d[order].top_tuned = sc.risk;
        }
        return ER_OK;
    }
    if (!er_grow((void **)&t->d, &t->cap, t->n + 1, sizeof *t->d))
        return er_errf(err, ER_ENOMEM, "out of memory");
    drec *r = &t->d[t->n++];
    memset(r, 0, sizeof *r);
    r->date = d->date;
    r->label = (int8_t)label;
    r->off = (uint32_t)t->nr;
    if (label < 0)
        return ER_OK;
    er_score_decl(t->ps, t->bl, t->ev, d, &sc);
    r->top = sc.risk;
    for (size_t i = 0; i < sc.n_results; i++) {
        if (!sc.results[i].in_scope)
            continue;
        if (!er_grow((void **)&t->r, &t->capr, t->nr + 1, sizeof *t->r) || t->nr >= UINT32_MAX)
            return er_errf(err, ER_ENOMEM, "out of memory");
        t->r[t->nr++] = (pres){sc.results[i].profile, sc.results[i].fired};
        r->n++;
    }
    return ER_OK;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return true;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int cmp_date(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct fit {
    bool           fitted;
    const char    *why;        /* why not fitted (static text) */
    er_logit_model m;
    double         tuned[ER_MAX_INDICATORS];
} fit;

/* Ranking metrics of one risk over the test period (declarations dated from
 * `from` on), and its average precision. */
static void test_metrics(const tn *t, int32_t from, int which, er_rank_item *items, er_rank_at at[N_RATES],
                         double *ap, size_t *pos_out)
{
    size_t n = 0, pos = 0;
    for (size_t i = 0; i < t->n; i++) {
        const drec *r = &t->d[i];
        if (r->label < 0 || r->date < from)
            continue;
        double s = which == 0 ? r->top : which == 1 ? r->top_tuned : r->model;
        items[n++] = (er_rank_item){s, i, r->label == 1};
        pos += r->label == 1;
    }
    er_rank_sort(items, n);
    *ap = rank_metrics(items, n, pos, RATES, N_RATES, at);
    *pos_out = pos;
}

/* Round to one decimal. */
static double round1(double x) { return round(x * 10) / 10; }

/* obj[key] = v as a number written with 6 significant digits (the text kept as
 * printed, so the tuned pack reads back the value it shows). */
static er_status set_num6(json_object *obj, const char *key, double v, er_err *err)
{
    char num[32];
    snprintf(num, sizeof num, "%.6g", v);
    json_object *j = json_object_new_double_s(strtod(num, NULL), num);
    if (!j)
        return er_errf(err, ER_ENOMEM, "out of memory");
    json_object_object_add(obj, key, j);
    return ER_OK;
}

static er_status write_pack(const er_tune_opts *o, const er_profileset *ps, const fit *fits, const char *note,
                            er_err *err)
{
    er_status st = ER_OK;
    json_object *root = json_object_from_file(o->pack), *profs;
    char tmp[4096];
    FILE *f = NULL;
    if (!root)
        return er_errf(err, ER_EPARSE, "%s: cannot read the pack (%s)", o->pack, json_util_get_last_err());
    if (!json_object_object_get_ex(root, "profiles", &profs) || !json_object_is_type(profs, json_type_array)) {
        st = er_errf(err, ER_EFORMAT, "%s: $.profiles: expected an array", o->pack);
        goto cleanup;
    }
    for (size_t i = 0; i < json_object_array_length(profs); i++) {
        json_object *p = json_object_array_get_idx(profs, i), *jid, *inds;
        if (!json_object_object_get_ex(p, "id", &jid))
            continue;
        size_t pi = er_profileset_find(ps, json_object_get_string(jid));
        if (pi == (size_t)-1 || !fits[pi].fitted)
            continue;
        const er_profile_info *info = er_profileset_info(ps, pi);
        if (!json_object_object_get_ex(p, "indicators", &inds) || !json_object_is_type(inds, json_type_array) ||
            json_object_array_length(inds) != info->n_indicators) {
            st = er_errf(err, ER_EFORMAT, "%s: $.profiles[%zu].indicators: does not match the loaded profile", o->pack, i);
            goto cleanup;
        }
        for (size_t k = 0; k < info->n_indicators; k++) {
            json_object *ind = json_object_array_get_idx(inds, k), *kid;
            if (!json_object_object_get_ex(ind, "id", &kid) ||
                strcmp(json_object_get_string(kid), info->indicators[k].id) != 0) {
                st = er_errf(err, ER_EFORMAT, "%s: $.profiles[%zu].indicators[%zu].id: does not match the loaded "
                             "profile", o->pack, i, k);
                goto cleanup;
            }
            double w = fits[pi].tuned[k];
            char num[32];
            snprintf(num, sizeof num, "%.1f", w);
            if (num[strlen(num) - 1] == '0' && num[strlen(num) - 2] == '.')
                num[strlen(num) - 2] = '\0';
            json_object *jw = w == floor(w) ? json_object_new_int((int)w) : json_object_new_double_s(w, num);
            if (!jw) {
                st = er_errf(err, ER_ENOMEM, "out of memory");
                goto cleanup;
            }
            json_object_object_add(ind, "weight", jw);
            /* The fitted log-odds (docs/scoring.md §6): what the risk adds when it fires. */
            if (fits[pi].m.fired[k]) {
                double b = fits[pi].m.beta[1 + k];
                if ((st = set_num6(ind, "log_odds", b > 20 ? 20 : b < -20 ? -20 : b, err)) != ER_OK)
                    goto cleanup;
            }
        }
        {
            /* prior: the fitted probability of a positive in scope with no indicator fired */
            double pr = 1 / (1 + exp(-fits[pi].m.beta[0]));
            if ((st = set_num6(p, "prior", pr < 1e-9 ? 1e-9 : pr > 0.999 ? 0.999 : pr, err)) != ER_OK)
                goto cleanup;
            /* the fit saw anomalies only through the profile's indicators: the unfitted
             * default anomaly term stays out of the tuned profile (docs/analysts.md) */
            json_object_object_add(p, "anomaly_scale", json_object_new_int(0));
        }
        json_object_object_add(p, "version", json_object_new_int(info->version + 1));
        json_object *refs;
        if (json_object_object_get_ex(p, "references", &refs) && json_object_is_type(refs, json_type_array))
            json_object_array_add(refs, json_object_new_string(note));
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o->out, (long)getpid());
    if (!(f = fopen(tmp, "w"))) {
        st = er_errf(err, ER_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto cleanup;
    }
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    f = NULL;
    if (!ok || rename(tmp, o->out) != 0) {
        int e = errno;
        unlink(tmp);
        st = er_errf(err, ER_EIO, "%s: write failed: %s", o->out, strerror(e));
    }
cleanup:
    if (f) {
        fclose(f);
        unlink(tmp);
    }
    json_object_put(root);
    return st;
}

/* One tuning: its inputs, the labelled declarations, the split, the fits and the test figures. */
typedef struct tune_run {
    const er_tune_opts *o;
    scan_ctx        sc;
    tn              t;
    er_profileset  *ps, *tuned;
    er_eval        *ev_tuned;
    fit            *fits;
    size_t          np;
    double          lambda, frac;
    unsigned        min_samples;
    int32_t         split;
    uint64_t        n_train, p_train, n_test, p_test;
    int32_t         tr_min, tr_max, te_min, te_max;
    er_rank_at      at[3][N_RATES];
    double          ap[3];
    size_t          test_pos;
} tune_run;

/* The options make sense and the output overwrites no input. */
static er_status check_opts(const er_tune_opts *o, er_err *err)
{
    if (!o->in.label_field && !o->in.outcomes)
        return er_errf(err, ER_EINVAL, "tune needs labels: a label field or an outcome store");
    if (!o->out || !o->pack)
        return er_errf(err, ER_EINVAL, "tune needs a pack and an output file");
    if (same_file(o->out, o->pack))
        return er_errf(err, ER_EINVAL, "%s: refusing to overwrite the input pack; write the tuned copy elsewhere",
                       o->out);
    for (size_t i = 0; i < o->in.n_feeds; i++)
        if (same_file(o->out, o->in.feeds[i]))
            return er_errf(err, ER_EINVAL, "%s: refusing to overwrite an input feed", o->out);
    if (o->in.baseline && same_file(o->out, o->in.baseline))
        return er_errf(err, ER_EINVAL, "%s: refusing to overwrite the baseline", o->out);
    struct stat sbuf;
    if (stat(o->pack, &sbuf) != 0 || !S_ISREG(sbuf.st_mode))
        return er_errf(err, ER_ENOTFOUND, "%s: tune needs one pack file (not a directory)", o->pack);
    return ER_OK;
}

/* Load the pack and score every labelled declaration with it (first pass). */
static er_status load_labelled(tune_run *u, er_err *err)
{
    er_status st;
    const char *packs[1] = {u->o->pack};
    if ((st = scan_profiles(&u->sc, packs, 1, u->o->lists_dir, &u->ps, err)) != ER_OK)
        return st;
    if ((st = er_eval_new(&u->t.ev, u->ps, err)) != ER_OK)
        return st;
    u->t.ps = u->ps;
    u->t.bl = u->sc.bl;
    if ((st = scan_feeds(&u->sc, on_decl, &u->t, true, err)) != ER_OK)
        return st;
    if (u->sc.labelled < 2)
        return er_errf(err, ER_EFORMAT, "tune: %llu labelled declarations; at least 2 are needed",
                       (unsigned long long)u->sc.labelled);
    return ER_OK;
}

/* The split date without --split-date: the date of the labelled row at the training fraction. */
static er_status split_by_fraction(tune_run *u, er_err *err)
{
    int32_t *dates = malloc(u->sc.labelled * sizeof *dates);
    if (!dates)
        return er_errf(err, ER_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < u->t.n; i++)
        if (u->t.d[i].label >= 0)
            dates[m++] = u->t.d[i].date;
    qsort(dates, m, sizeof *dates, cmp_date);
    u->split = dates[(size_t)floor(u->frac * (double)m)];
    er_status st = ER_OK;
    if (u->split == dates[0])
        st = er_errf(err, ER_EFORMAT, "tune: cannot split by date: the first %.0f%% of the labelled "
                     "declarations all share the first date; give --split-date", 100 * u->frac);
    free(dates);
    return st;
}

/* Time-ordered split: training and test counts and date ranges. */
static er_status split_periods(tune_run *u, er_err *err)
{
    er_status st;
    u->split = u->o->all_labels ? INT32_MAX : u->o->split_date;
    if (!u->split && (st = split_by_fraction(u, err)) != ER_OK)
        return st;
    for (size_t i = 0; i < u->t.n; i++) {
        const drec *r = &u->t.d[i];
        if (r->label < 0)
            continue;
        bool train = r->date < u->split;
        uint64_t *n = train ? &u->n_train : &u->n_test, *p = train ? &u->p_train : &u->p_test;
        int32_t *lo = train ? &u->tr_min : &u->te_min, *hi = train ? &u->tr_max : &u->te_max;
        (*n)++;
        *p += (uint64_t)r->label;
        *lo = !*lo || r->date < *lo ? r->date : *lo;
        *hi = r->date > *hi ? r->date : *hi;
    }
    if (u->o->all_labels) {
        /* deployment: fit on every label; the "test" figures are in-sample */
        u->n_test = u->n_train;
        u->p_test = u->p_train;
        u->te_min = u->tr_min;
        u->te_max = u->tr_max;
    }
    if (!u->n_train || !u->n_test) {
        char ds[11];
        er_date_format(u->split, ds);
        return er_errf(err, ER_EFORMAT, "tune: split date %s leaves %s period empty", ds,
                       u->n_train ? "the test" : "the training");
    }
    return ER_OK;
}

/* Weights: proportional to the positive coefficients of indicators that fired, with the
 * profile's total weight over those indicators kept; the others keep their weight. */
static void tuned_weights(const er_profile_info *info, fit *f)
{
    double wsum = 0, bsum = 0;
    for (size_t k = 0; k < info->n_indicators; k++)
        if (f->m.fired[k]) {
            wsum += info->indicators[k].weight;
            bsum += f->m.beta[1 + k] > 0 ? f->m.beta[1 + k] : 0;
        }
    for (size_t k = 0; k < info->n_indicators; k++) {
        if (!f->m.fired[k])
            continue;
        double b = f->m.beta[1 + k] > 0 ? f->m.beta[1 + k] : 0;
        double w = bsum > 0 ? wsum * b / bsum : 0;
        f->tuned[k] = round1(w > 100 ? 100 : w);
    }
}

/* Fit profile p on its in-scope training declarations (x, y: scratch of n_train rows). */
static er_status fit_profile(tune_run *u, size_t p, uint64_t *x, uint8_t *y, er_err *err)
{
    const er_profile_info *info = er_profileset_info(u->ps, p);
    fit *f = &u->fits[p];
    size_t n = 0, pos = 0;
    for (size_t k = 0; k < info->n_indicators; k++)
        f->tuned[k] = info->indicators[k].weight;
    for (size_t i = 0; i < u->t.n; i++) {
        const drec *r = &u->t.d[i];
        if (r->label < 0 || r->date >= u->split)
            continue;
        for (uint16_t q = 0; q < r->n; q++)
            if (u->t.r[r->off + q].profile == p) {
                x[n] = u->t.r[r->off + q].fired;
                y[n] = (uint8_t)r->label;
                pos += (size_t)r->label;
                n++;
            }
    }
    f->why = n < u->min_samples ? "too few in-scope training declarations"
           : pos == 0 || pos == n ? "training labels are all the same" : NULL;
    if (f->why) {
        f->m.n = n;
        f->m.positives = pos;
        return ER_OK;
    }
    er_logit_opts lo = {.lambda = u->lambda};
    er_status st = er_logit_fit(x, y, n, info->n_indicators, &lo, &f->m, err);
    if (st != ER_OK) {
        er_err_prefix(err, st, "profile %s", info->id);
        return st;
    }
    f->fitted = true;
    tuned_weights(info, f);
    return ER_OK;
}

/* Fit every profile, then each declaration's model probability: the highest over its
 * in-scope fitted profiles. */
static er_status fit_all(tune_run *u, er_err *err)
{
    er_status st = ER_OK;
    u->np = er_profileset_count(u->ps);
    u->fits = calloc(u->np ? u->np : 1, sizeof *u->fits);
    uint64_t *x = malloc((u->n_train ? u->n_train : 1) * sizeof *x);
    uint8_t *y = malloc(u->n_train ? u->n_train : 1);
    if (!u->fits || !x || !y) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t p = 0; p < u->np; p++)
        if ((st = fit_profile(u, p, x, y, err)) != ER_OK)
            goto cleanup;
    for (size_t i = 0; i < u->t.n; i++) {
        drec *r = &u->t.d[i];
        r->model = 0;
        for (uint16_t q = 0; q < r->n; q++) {
            const fit *f = &u->fits[u->t.r[r->off + q].profile];
            if (!f->fitted)
                continue;
            double pr = 1 / (1 + exp(-er_logit_eta(&f->m, u->t.r[r->off + q].fired)));
            if (pr > r->model)
                r->model = pr;
        }
    }
cleanup:
    free(y);
    free(x);
    return st;
}

/* The tuned pack: written, then loaded back like any pack and scored (second pass). */
static er_status write_and_rescore(tune_run *u, er_err *err)
{
    const er_tune_opts *o = u->o;
    char note[512], d1[11], d2[11], lbuf[4096];
    er_date_format(u->tr_min, d1);
    er_date_format(u->tr_max, d2);
    snprintf(note, sizeof note, "Weights fitted by 'ecorisk tune' (L2 logistic regression, lambda %g) on %llu "
                                "labelled declarations dated %s to %s, label %s",
             u->lambda, (unsigned long long)u->n_train, d1, d2,
             o->in.label_field ? o->in.label_field : "from the outcome store");
    er_status st = write_pack(o, u->ps, u->fits, note, err);
    if (st != ER_OK)
        return st;
    const char *tp[1] = {o->out};
    const char *lists = o->lists_dir;
    if (!lists) {
        /* the tuned copy uses the original pack's lists */
        snprintf(lbuf, sizeof lbuf, "%s", o->pack);
        char *slash = strrchr(lbuf, '/');
        if (slash)
            strcpy(slash, "/lists");
        else
            strcpy(lbuf, "lists");
        lists = lbuf;
    }
    if ((st = scan_profiles(&u->sc, tp, 1, lists, &u->tuned, err)) != ER_OK) {
        er_err_prefix(err, st, "the tuned pack does not load");
        return st;
    }
    if ((st = er_eval_new(&u->ev_tuned, u->tuned, err)) != ER_OK)
        return st;
    u->t.second = true;
    u->t.ps = u->tuned;
    er_eval *ev_orig = u->t.ev;
    u->t.ev = u->ev_tuned;
    scan_ctx sc2 = u->sc;   /* same loaded inputs; counts of the second pass are not reported */
    st = scan_feeds(&sc2, on_decl, &u->t, false, err);
    u->t.ev = ev_orig;
    return st;
}

/* Precision, recall and average precision over the test period of the three rankings. */
static er_status test_all(tune_run *u, er_err *err)
{
    er_rank_item *items = malloc((u->n_test ? u->n_test : 1) * sizeof *items);
    if (!items)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (int w = 0; w < 3; w++)
        test_metrics(&u->t, u->o->all_labels ? INT32_MIN : u->split, w, items, u->at[w], &u->ap[w], &u->test_pos);
    free(items);
    return ER_OK;
}

/* One profile's fit as JSON. */
static void profile_json(er_sb *j, const er_profile_info *info, const fit *f)
{
    er_sb_json_key(j, "id");
    er_sb_json_cstr(j, info->id);
    er_sb_printf(j, ",\"version\":%d,\"tuned_version\":%d,\"fitted\":%s", info->version,
                 f->fitted ? info->version + 1 : info->version, f->fitted ? "true" : "false");
    er_sb_printf(j, ",\"n\":%llu,\"positives\":%llu", (unsigned long long)f->m.n, (unsigned long long)f->m.positives);
    if (!f->fitted) {
        er_sb_json_key(j, "reason");
        er_sb_json_cstr(j, f->why);
        er_sb_putc(j, '}');
        return;
    }
    er_sb_printf(j, ",\"iterations\":%u,\"converged\":%s,\"loglik\":", f->m.iterations,
                 f->m.converged ? "true" : "false");
    json_num6(j, f->m.loglik);
    er_sb_puts(j, ",\"intercept\":{\"beta\":");
    json_num6(j, f->m.beta[0]);
    er_sb_puts(j, ",\"se\":");
    json_num6(j, f->m.se[0]);
    er_sb_puts(j, "},\"indicators\":[");
    for (size_t k = 0; k < info->n_indicators; k++) {
        er_sb_puts(j, k ? ",\n      {" : "\n      {");
        er_sb_json_key(j, "id");
        er_sb_json_cstr(j, info->indicators[k].id);
        er_sb_printf(j, ",\"anomaly\":%s,\"fired\":%llu,\"beta\":", info->indicators[k].is_anomaly ? "true" : "false",
                     (unsigned long long)f->m.fired[k]);
        if (f->m.fired[k]) {
            json_num6(j, f->m.beta[1 + k]);
            er_sb_puts(j, ",\"se\":");
            json_num6(j, f->m.se[1 + k]);
            er_sb_puts(j, ",\"z\":");
            json_num6(j, f->m.se[1 + k] > 0 ? f->m.beta[1 + k] / f->m.se[1 + k] : NAN);
        } else {
            er_sb_puts(j, "null,\"se\":null,\"z\":null");
        }
        er_sb_puts(j, ",\"weight\":");
        json_num6(j, info->indicators[k].weight);
        er_sb_puts(j, ",\"tuned_weight\":");
        json_num6(j, f->tuned[k]);
        er_sb_putc(j, '}');
    }
    er_sb_puts(j, "]}");
}

static const char *const RANKING_NAMES[3] = {"original", "tuned", "model"};

/* The report as JSON: split, fits, test figures. */
static void tune_json(er_sb *j, const tune_run *u)
{
    const er_tune_opts *o = u->o;
    char ds[11], d1[11], d2[11];
    double base_test = (double)u->p_test / (double)u->n_test, base_train = (double)u->p_train / (double)u->n_train;
    if (o->all_labels)
        snprintf(ds, sizeof ds, "none");   /* every label trained on */
    else
        er_date_format(u->split, ds);
    er_date_format(u->tr_min, d1);
    er_date_format(u->tr_max, d2);
    er_sb_puts(j, "{\n  \"format\": 1,\n  \"kind\": \"tune\",\n  \"pack\": ");
    er_sb_json_cstr(j, o->pack);
    er_sb_puts(j, ",\n  \"out\": ");
    er_sb_json_cstr(j, o->out);
    er_sb_puts(j, ",\n  \"label\": ");
    json_label_source(j, &o->in);
    er_sb_puts(j, ",\n  \"lambda\": ");
    json_num6(j, u->lambda);
    er_sb_printf(j, ",\n  \"split\": {\"date\": \"%s\", \"train\": {\"n\": %llu, \"positives\": %llu, \"base_rate\": ",
                 ds, (unsigned long long)u->n_train, (unsigned long long)u->p_train);
    json_num6(j, base_train);
    er_sb_printf(j, ", \"dates\": [\"%s\", \"%s\"]}, \"test\": {\"n\": %llu, \"positives\": %llu, \"base_rate\": ",
                 d1, d2, (unsigned long long)u->n_test, (unsigned long long)u->p_test);
    json_num6(j, base_test);
    er_date_format(u->te_min, d1);
    er_date_format(u->te_max, d2);
    er_sb_printf(j, ", \"dates\": [\"%s\", \"%s\"]}},\n  \"profiles\": [", d1, d2);
    for (size_t p = 0; p < u->np; p++) {
        er_sb_puts(j, p ? ",\n    {" : "\n    {");
        profile_json(j, er_profileset_info(u->ps, p), &u->fits[p]);
    }
    er_sb_printf(j, "\n  ],\n  \"test\": {\"n\": %llu, \"positives\": %llu, \"base_rate\": ",
                 (unsigned long long)u->n_test, (unsigned long long)u->p_test);
    json_num6(j, base_test);
    er_sb_printf(j, ", \"in_sample\": %s", o->all_labels ? "true" : "false");
    for (int w = 0; w < 3; w++) {
        er_sb_printf(j, ",\n    \"%s\": [", RANKING_NAMES[w]);
        rank_at_json(j, u->at[w], N_RATES, u->test_pos, base_test, AT_RECALL0 | AT_LIFT, "{", ",{");
        er_sb_putc(j, ']');
    }
    er_sb_puts(j, ",\n    \"average_precision\": {");
    for (int w = 0; w < 3; w++) {
        er_sb_printf(j, "%s\"%s\": ", w ? ", " : "", RANKING_NAMES[w]);
        json_num6(j, u->test_pos ? u->ap[w] : NAN);
    }
    er_sb_puts(j, "}\n  }\n}\n");
}

/* One profile's fit as table lines. */
static void profile_table(er_sb *tb, const er_profile_info *info, const fit *f)
{
    er_sb_printf(tb, "\n%s v%d: ", info->id, info->version);
    if (!f->fitted) {
        er_sb_printf(tb, "not fitted (%s: %llu in scope, %llu positive); weights kept\n", f->why,
                     (unsigned long long)f->m.n, (unsigned long long)f->m.positives);
        return;
    }
    er_sb_printf(tb, "%llu in scope, %llu positive, %u iterations%s; intercept %.3f (se %.3f)\n",
                 (unsigned long long)f->m.n, (unsigned long long)f->m.positives, f->m.iterations,
                 f->m.converged ? "" : " (NOT converged)", f->m.beta[0], f->m.se[0]);
    er_sb_printf(tb, "  %-28s %8s %9s %8s %7s %7s %7s\n", "indicator", "fired", "coef", "se", "z", "weight", "tuned");
    for (size_t k = 0; k < info->n_indicators; k++) {
        if (f->m.fired[k])
            er_sb_printf(tb, "  %-28.28s %8llu %9.3f %8.3f %7.2f %7g %7g\n", info->indicators[k].id,
                         (unsigned long long)f->m.fired[k], f->m.beta[1 + k], f->m.se[1 + k],
                         f->m.beta[1 + k] / f->m.se[1 + k], info->indicators[k].weight, f->tuned[k]);
        else
            er_sb_printf(tb, "  %-28.28s %8d %9s %8s %7s %7g %7g\n", info->indicators[k].id, 0, "-", "-", "-",
                         info->indicators[k].weight, f->tuned[k]);
    }
}

/* The report as a readable table. */
static void tune_table(er_sb *tb, const tune_run *u)
{
    const er_tune_opts *o = u->o;
    char b1[16], b2[16], ds[11];
    double base_test = (double)u->p_test / (double)u->n_test, base_train = (double)u->p_train / (double)u->n_train;
    er_date_format(u->split, ds);
    if (o->all_labels)
        er_sb_printf(tb, "Tuning %s on all %llu labelled declarations (base rate %s), for deployment: no test "
                         "period, the figures below are in-sample. L2 penalty %g.\n",
                     o->pack, (unsigned long long)u->n_train, fmt_pct(b1, sizeof b1, base_train), u->lambda);
    else
        er_sb_printf(tb, "Tuning %s on %llu labelled declarations before %s (base rate %s); testing on %llu from %s "
                         "on (base rate %s). L2 penalty %g.\n",
                     o->pack, (unsigned long long)u->n_train, ds, fmt_pct(b1, sizeof b1, base_train),
                     (unsigned long long)u->n_test, ds, fmt_pct(b2, sizeof b2, base_test), u->lambda);
    for (size_t p = 0; p < u->np; p++)
        profile_table(tb, er_profileset_info(u->ps, p), &u->fits[p]);
    er_sb_printf(tb, "\nTest period (%llu declarations, %llu positive, base rate %s):\n",
                 (unsigned long long)u->n_test, (unsigned long long)u->p_test, fmt_pct(b1, sizeof b1, base_test));
    er_sb_printf(tb, "  %-34s", "");
    for (size_t k = 0; k < N_RATES; k++)
        er_sb_printf(tb, "  precision@%-3g recall@%-3g", 100 * RATES[k], 100 * RATES[k]);
    er_sb_putc(tb, '\n');
    er_sb_puts(tb, "  average precision");
    er_sb_putc(tb, '\n');
    static const char *const labels[3] = {"original pack (risk)", "tuned pack (risk, written)",
                                          "fitted model (probabilities)"};
    for (int w = 0; w < 3; w++) {
        er_sb_printf(tb, "  %-34s", labels[w]);
        for (size_t k = 0; k < N_RATES; k++)
            er_sb_printf(tb, "  %12s %9s", fmt_pct(b1, sizeof b1, u->at[w][k].precision),
                         fmt_pct(b2, sizeof b2, u->at[w][k].recall));
        er_sb_printf(tb, "  %17.4f\n", u->ap[w]);
    }
    er_sb_printf(tb, "\nTuned pack written to %s.\n", o->out);
}

er_status er_tune(const er_tune_opts *o, char **json, char **table, er_err *err)
{
    er_status st = ER_OK;
    tune_run u = {.o = o};
    er_sb j = {0}, tb = {0};
    u.lambda = o->lambda >= 0 ? o->lambda : 1.0;
    u.frac = o->train_fraction > 0 && o->train_fraction < 1 ? o->train_fraction : 0.8;
    u.min_samples = o->min_samples ? o->min_samples : 30;

    *json = *table = NULL;
    if ((st = check_opts(o, err)) != ER_OK)
        return st;
    if ((st = scan_open(&u.sc, &o->in, err)) != ER_OK)
        return st;
    if ((st = load_labelled(&u, err)) != ER_OK || (st = split_periods(&u, err)) != ER_OK ||
        (st = fit_all(&u, err)) != ER_OK || (st = write_and_rescore(&u, err)) != ER_OK ||
        (st = test_all(&u, err)) != ER_OK)
        goto cleanup;
    tune_json(&j, &u);
    tune_table(&tb, &u);
    st = take_outputs(&j, &tb, json, table, err);
cleanup:
    er_sb_free(&tb);
    er_sb_free(&j);
    free(u.fits);
    free(u.t.r);
    free(u.t.d);
    er_eval_free(u.ev_tuned);
    er_eval_free(u.t.ev);
    er_profileset_free(u.tuned);
    er_profileset_free(u.ps);
    scan_close(&u.sc);
    return st;
}
