/*
 * profile_load.c — er_profileset_load: reads every pack (profile_pack.c),
 * then builds what evaluation needs once all are read (the HS trie, the
 * keyword automata, the candidate lists); and the accessors and the free of
 * a profile set. The language itself is documented in docs/profiles.md; the
 * compiler is profile_compile.c with the operator table of profile_ops.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile/profile_build.h"
#include "profile/profile_op.h"
#include "ecorisk/data.h"

void er_profileset_free(er_profileset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_packs; i++)
        kw_free(&s->kw[i]);
    free(s->kw);
    kwt_free(&s->kwt);
    free(s->pack_files);
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].pairs);
    free(s->routes);
    for (size_t i = 0; i < s->n_lists; i++) {
        free(s->lists[i].entries);
        free(s->lists[i].lines);
    }
    free(s->lists);
    free(s->prof);
    free(s->nodes);
    free(s->kids);
    free(s->strsets);
    free(s->ccsets);
    free(s->hs);
    free(s->hs_bits);
    free(s->hs_entries);
    free(s->hs_n_entries);
    free(s->hs_pending);
    free(s->hs_pending_set);
    free(s->kwset_pack);
    free(s->kw_entries);
    free(s->kw_n_entries);
    free(s->slots);
    free(s->msgs);
    free(s->ungated);
    free(s->gated);
    free(s->gterm_start);
    free(s->gterms);
    free(s->gate_hs);
    free(s->gate_by_hsset);
    free(s->gate_by_kwset);
    free(s->gate_slots);
    free(s->gate_start);
    free(s->gate_idx);
    free(s->res_template);
    er_arena_free(s->arena);
    free(s);
}

#define GATE_MAX_TERMS 16

/* A necessary condition of node i as a disjunction of HS and keyword sets:
 * when i holds, one of the terms does. An HS prefix or keyword test is its
 * own term; `any` needs one for each child (the union); `all` takes the
 * smallest of its children's; `not` and every other test give none (false).
 * Terms go to t[*n ..), at most GATE_MAX_TERMS in all. */
static bool node_gate(const er_profileset *s, uint32_t i, gterm *t, size_t *n)
{
    const cnode *c = &s->nodes[i];
    unsigned fl = profile_ops[c->op].flags;
    if (fl & (OPF_HS_GATE | OPF_KW_GATE)) {
        if (*n >= GATE_MAX_TERMS)
            return false;
        t[(*n)++] = (gterm){c->a, fl & OPF_HS_GATE ? GTERM_HS : c->slot};
        return true;
    }
    if (!(fl & OPF_CHILDREN) || (fl & OPF_NEGATES) || c->n == 0)
        return false;
    if (!(fl & OPF_CONJ)) {   /* any */
        for (uint32_t k = 0; k < c->n; k++)
            if (!node_gate(s, s->kids[c->a + k], t, n))
                return false;
        return true;
    }
    size_t start = *n, best = 0;   /* all: the child with the fewest terms */
    gterm tmp[GATE_MAX_TERMS];
    for (uint32_t k = 0; k < c->n; k++) {
        size_t m = 0;
        if (node_gate(s, s->kids[c->a + k], tmp, &m) && (!best || m < best) && start + m <= GATE_MAX_TERMS) {
            memcpy(t + start, tmp, m * sizeof *tmp);
            best = m;
        }
    }
    *n = start + best;
    return best > 0;
}

/* Candidate lists for evaluation (see profile_int.h): profiles gated by one
 * HS set (CSR by set), profiles gated by a disjunction of HS and keyword sets
 * (the gate's terms), and the others, visited for every declaration. */
static er_status build_candidates(er_profileset *s)
{
    size_t np = s->n_prof ? s->n_prof : 1;
    s->gated = malloc(np * sizeof *s->gated);
    s->gterm_start = calloc(np + 1, sizeof *s->gterm_start);
    s->gterms = malloc(np * GATE_MAX_TERMS * sizeof *s->gterms);
    s->gate_hs = calloc(np * s->hs_words, sizeof *s->gate_hs);
    if (!s->gated || !s->gterm_start || !s->gterms || !s->gate_hs)
        return ER_ENOMEM;
    s->ungated = malloc(np * sizeof *s->ungated);
    s->gate_start = calloc(s->n_hssets + 2, sizeof *s->gate_start);
    s->gate_idx = malloc(np * sizeof *s->gate_idx);
    s->res_template = calloc(np, sizeof *s->res_template);
    if (!s->ungated || !s->gate_start || !s->gate_idx || !s->res_template)
        return ER_ENOMEM;
    for (size_t i = 0; i < s->n_prof; i++) {
        s->res_template[i].profile = (uint32_t)i;
        s->res_template[i].lane = ER_LANE_GREEN;
        size_t n = 0;
        if (s->prof[i].hs_gate < 0 && node_gate(s, s->prof[i].scope, s->gterms + s->n_gterms, &n)) {
            /* the gate's HS terms folded into its mask, so a declaration tests them
             * in a few word ANDs; its keyword terms stay listed (a scan is lazy) */
            size_t k = s->n_gated, kept = s->n_gterms;
            for (size_t j = s->n_gterms; j < s->n_gterms + n; j++) {
                gterm t = s->gterms[j];
                if (t.slot == GTERM_HS)
                    s->gate_hs[k * s->hs_words + t.set / 64] |= (uint64_t)1 << (t.set % 64);
                else
                    s->gterms[kept++] = t;
            }
            s->n_gterms = kept;
            s->gated[s->n_gated++] = (uint32_t)i;
            s->gterm_start[s->n_gated] = (uint32_t)s->n_gterms;
        } else if (s->prof[i].hs_gate < 0)
            s->ungated[s->n_ungated++] = (uint32_t)i;
        else
            s->gate_start[s->prof[i].hs_gate + 1]++;
    }
    for (size_t k = 0; k < s->n_hssets; k++)
        s->gate_start[k + 1] += s->gate_start[k];
    uint32_t *fill = calloc(s->n_hssets + 1, sizeof *fill);
    if (!fill)
        return ER_ENOMEM;
    for (size_t i = 0; i < s->n_prof; i++)
        if (s->prof[i].hs_gate >= 0) {
            size_t g = (size_t)s->prof[i].hs_gate;
            s->gate_idx[s->gate_start[g] + fill[g]++] = (uint32_t)i;
        }
    free(fill);
    if (s->n_gated <= 64) {
        size_t per_slot = (size_t)s->kw_words * 64, ns = s->n_slots ? s->n_slots : 1;
        if (!(s->gate_by_hsset = calloc(s->n_hssets ? s->n_hssets : 1, sizeof *s->gate_by_hsset)) ||
            !(s->gate_by_kwset = calloc(ns * per_slot, sizeof *s->gate_by_kwset)) ||
            !(s->gate_slots = calloc(ns, sizeof *s->gate_slots)))
            return ER_ENOMEM;
        for (size_t k = 0; k < s->n_gated; k++) {
            for (size_t set = 0; set < s->n_hssets; set++)
                if (s->gate_hs[k * s->hs_words + set / 64] >> (set % 64) & 1u)
                    s->gate_by_hsset[set] |= (uint64_t)1 << k;
            for (uint32_t j = s->gterm_start[k]; j < s->gterm_start[k + 1]; j++) {
                const gterm *t = &s->gterms[j];
                s->gate_by_kwset[t->slot * per_slot + t->set] |= (uint64_t)1 << k;
                s->gated_kw |= (uint64_t)1 << k;
                size_t i = 0;
                while (i < s->n_gate_slots && s->gate_slots[i] != t->slot)
                    i++;
                if (i == s->n_gate_slots)
                    s->gate_slots[s->n_gate_slots++] = t->slot;
            }
        }
    }
    return ER_OK;
}

/* Reads and loads every pack file; the first failure's status (ER_OK when all read). */
static er_status load_files(ctx *c, char **files, size_t n_files)
{
    er_profileset *s = c->s;
    er_status st = ER_OK;
    for (size_t i = 0; i < n_files && !c->nomem; i++) {
        char *text = NULL;
        size_t len = 0;
        c->file = adup(s, files[i]);
        c->pack = (uint8_t)i;
        s->pack_files[i] = c->file;
        er_status rs = read_file(files[i], &text, &len);
        if (rs != ER_OK) {
            lint_err(c, "", "cannot read: %s", rs == ER_ENOTFOUND ? "no such file" : er_status_str(rs));
            if (rs == ER_ENOMEM)
                c->nomem = true;
            if (st == ER_OK)
                st = rs == ER_ENOMEM ? ER_ENOMEM : rs == ER_ENOTFOUND ? ER_ENOTFOUND : ER_EIO;
            continue;
        }
        hash_in(s, text, len);
        json_object *root = parse_json(s, c->file, text, len);
        free(text);
        if (!root) {
            if (st == ER_OK)
                st = ER_EPARSE;
            continue;
        }
        load_pack(c, root);
        json_object_put(root);
    }
    if (c->unloadable && st == ER_OK)
        st = ER_EPARSE;
    return st;
}

/* After every pack is read: the HS trie, the keyword automata, the text slots, the candidates. */
static er_status build_matchers(er_profileset *s, er_err *err)
{
    if (hs_build(s) != ER_OK)
        return er_errf(err, ER_ENOMEM, "out of memory compiling HS sets");
    if (kwt_build(&s->kwt, s->kw, s->n_packs) != ER_OK)
        return er_errf(err, ER_ENOMEM, "out of memory compiling keywords");
    for (size_t i = 0; i < s->n_packs; i++)
        if (kw_build(&s->kw[i]) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory compiling keywords");
    s->kw_words = (uint32_t)((s->n_kwsets + 63) / 64);
    if (!s->kw_words)
        s->kw_words = 1;
    if (s->n_slots == 0) {
        if (!GROW(s->slots, s->n_slots, s->cap_slots, 1))
            return ER_ENOMEM;
        s->slots[s->n_slots++] = "description";
    }
    if (build_candidates(s) != ER_OK)
        return er_errf(err, ER_ENOMEM, "out of memory compiling profiles");
    snprintf(s->hash_hex, sizeof s->hash_hex, "%016llx", (unsigned long long)s->hash);
    return ER_OK;
}

/* The first lint error as the load's error message. */
static void first_error(const er_profileset *s, er_status st, er_err *err)
{
    const er_lint_msg *m = NULL;
    for (size_t i = 0; i < s->n_msgs && !m; i++)
        if (s->msgs[i].severity == ER_LINT_ERROR)
            m = &s->msgs[i];
    if (m)
        er_errf(err, st, "%s: %s%s%s (%zu error%s in all)", m->file, m->path, *m->path ? ": " : "", m->message,
                s->n_errors, s->n_errors == 1 ? "" : "s");
}

/* The pack files of paths, the lists folder and the per-pack arrays. */
static er_status prepare(er_profileset *s, const char *const *paths, size_t n_paths, const er_profile_opts *opts,
                         char ***files, size_t *n_files, er_err *err)
{
    if (n_paths == 0)
        return er_errf(err, ER_EINVAL, "no profile pack given");
    er_status st = expand(s, paths, n_paths, files, n_files, err);
    if (st != ER_OK)
        return st;
    if (*n_files == 0) {
        lint_file(s, ER_LINT_ERROR, adup(s, paths[0]), "", "no profile packs (*.json) found");
        return er_errf(err, ER_ENOTFOUND, "%s: no profile packs (*.json) found", paths[0]);
    }
    if (opts && opts->lists_dir) {
        s->lists_dir = adup(s, opts->lists_dir);
    } else {
        char *d = dir_of(paths[0]);
        if (!d)
            return ER_ENOMEM;
        s->lists_dir = afmt(s, "%s/lists", d);
        free(d);
    }
    if (*n_files > 250)
        return er_errf(err, ER_ELIMIT, "too many profile packs (%zu, at most 250)", *n_files);
    s->kw = calloc(*n_files, sizeof *s->kw);
    s->pack_files = calloc(*n_files, sizeof *s->pack_files);
    if (!s->kw || !s->pack_files)
        return ER_ENOMEM;
    s->n_packs = *n_files;
    return ER_OK;
}

er_status er_profileset_load(er_profileset **out, const char *const *paths, size_t n_paths,
                             const er_profile_opts *opts, bool keep_on_error, er_err *err)
{
    char **files = NULL;
    size_t n_files = 0;
    *out = NULL;
    er_profileset *s = calloc(1, sizeof *s);
    if (!s || !(s->arena = er_arena_new(1 << 16))) {
        free(s);
        return er_errf(err, ER_ENOMEM, "out of memory loading profiles");
    }
    s->ref = opts ? opts->ref : NULL;
    s->today = opts && opts->today ? opts->today : (int32_t)(time(NULL) / 86400);
    s->hash = 0xcbf29ce484222325ULL;
    er_status st = prepare(s, paths, n_paths, opts, &files, &n_files, err);
    if (st != ER_OK)
        goto cleanup;
    ctx c = {.s = s};
    st = load_files(&c, files, n_files);
    if (c.nomem) {
        st = er_errf(err, ER_ENOMEM, "out of memory loading profiles");
        goto cleanup;
    }
    er_status bs = build_matchers(s, err);
    if (bs != ER_OK) {
        st = bs;
        goto cleanup;
    }
    if (st == ER_OK && s->n_errors)
        st = ER_EPROFILE;
    if (st != ER_OK && st != ER_ENOMEM)
        first_error(s, st, err);
cleanup:
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    if (st != ER_OK && (!keep_on_error || st == ER_ENOMEM)) {
        er_profileset_free(s);
        s = NULL;
    }
    *out = s;
    return er_err_default(err, st);
}

const char *er_profile_default_dir(void)
{
    static char dir[4096];
    if (er_data_find(ER_DATA_PROFILES, NULL, dir, sizeof dir, NULL) != ER_OK)
        snprintf(dir, sizeof dir, "%s", ECORISK_DATADIR "/profiles");
    return dir;
}

size_t er_profileset_count(const er_profileset *s)
{
    return s ? s->n_prof : 0;
}

const er_profile_info *er_profileset_info(const er_profileset *s, size_t i)
{
    return s && i < s->n_prof ? &s->prof[i].info : NULL;
}

size_t er_profileset_find(const er_profileset *s, const char *id)
{
    for (size_t i = 0; s && i < s->n_prof; i++)
        if (strcmp(s->prof[i].info.id, id) == 0)
            return i;
    return (size_t)-1;
}

size_t er_profileset_lint(const er_profileset *s, const er_lint_msg **msgs)
{
    *msgs = s ? s->msgs : NULL;
    return s ? s->n_msgs : 0;
}

const char *er_profileset_hash(const er_profileset *s)
{
    return s ? s->hash_hex : "";
}
