/*
 * profile_int.h — private structures of the profile module: the compiled
 * condition graph, the matchers (HS prefix trie, country bitsets, keyword
 * automata), the profile set that owns them and the evaluation state. Shared
 * by the compiler (profile_build.h), the operators (profile_op.h), the
 * matchers (profile_match.c), evaluation (profile_eval.c, profile_explain.c)
 * and profile_describe.c.
 */
#ifndef ECORISK_PROFILE_INT_H
#define ECORISK_PROFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecorisk/arena.h"
#include "ecorisk/profile.h"
#include "ecorisk/registry.h"

/* ---- fields a condition may test ---------------------------------------- */
typedef enum pfield {
    /* strings */
    PF_ID = 0, PF_FLOW, PF_MODE, PF_DECLARANT, PF_IMPORTER, PF_EXPORTER, PF_HS,
    PF_DESCRIPTION, PF_OFFICE, PF_UNIT, PF_CURRENCY, PF_CONTAINER, PF_EXTRA,
    /* countries */
    PF_ORIGIN, PF_EXPORT_COUNTRY, PF_DESTINATION, PF_TRANSIT,
    /* numbers (stored and derived) */
    PF_NET_KG, PF_GROSS_KG, PF_QUANTITY, PF_VALUE, PF_VALUE_REF, PF_PACKAGES,
    PF_UNIT_VALUE, PF_GROSS_NET_RATIO, PF_KG_PER_PACKAGE, PF_KG_PER_UNIT,
    PF_COUNT
} pfield;

#define PF_IS_STRING(f)  ((f) <= PF_EXTRA)
#define PF_IS_COUNTRY(f) ((f) >= PF_ORIGIN && (f) <= PF_TRANSIT)
#define PF_IS_NUMBER(f)  ((f) >= PF_NET_KG && (f) < PF_COUNT)

const char *pfield_name(pfield f);
pfield      pfield_parse(const char *name);   /* PF_COUNT if unknown ("extra.*" → PF_EXTRA) */

/* Field kinds, for the operator table (profile_op.h): which operators a field accepts. */
enum {
    FK_TEXT = 1u << 0,      /* string fields other than hs, flow and mode */
    FK_ENUM = 1u << 1,      /* flow, mode: tested as bit masks */
    FK_HS = 1u << 2,
    FK_COUNTRY = 1u << 3,
    FK_NUMBER = 1u << 4,
    FK_ANY = 0x1f,
};
unsigned pfield_kind(pfield f);

/* ---- compiled conditions ------------------------------------------------ */
typedef enum ncmp { NC_GT = 0, NC_GE, NC_LT, NC_LE, NC_EQ, NC_NE, NC_BETWEEN } ncmp;

typedef enum route_from { RF_ORIGIN = 0, RF_EXPORT, RF_EITHER } route_from;

typedef struct cnode {
    uint8_t     op;        /* row of the operator table (profile_op.h) */
    uint8_t     field;     /* pfield */
    uint8_t     cmp;       /* ncmp, route_from, anomaly feature or document kind: the operator's */
    uint8_t     pack;      /* keyword automaton (pack index) of a keyword test */
    uint32_t    a, n;      /* children: kids[a .. a+n) ; or set index in a */
    double      x, y;      /* numeric operands / p threshold */
    const char *extra;     /* extra column name (PF_EXTRA) */
    const char *label;     /* operand as written: list name or inline set, for evidence */
    const char *path;      /* JSON path of this condition */
    uint32_t    slot;      /* keyword text slot (0 = description, 1.. = extras) */
} cnode;

/* A sorted set of strings (bsearch). */
typedef struct strset {
    const char **v;
    size_t       n;
} strset;

/* Countries: dense index (A..Z × A..Z = 676) bitset. */
#define CC_WORDS 11
typedef struct ccset {
    uint64_t w[CC_WORDS];
} ccset;

static inline int cc_index(uint16_t cc)
{
    unsigned a = (unsigned)(cc >> 8) - 'A', b = (unsigned)(cc & 0xff) - 'A';
    return a < 26 && b < 26 ? (int)(a * 26 + b) : -1;
}
static inline bool ccset_has(const ccset *s, uint16_t cc)
{
    int i = cc_index(cc);
    return i >= 0 && (s->w[i >> 6] >> (i & 63)) & 1u;
}
static inline void ccset_add(ccset *s, uint16_t cc)
{
    int i = cc_index(cc);
    if (i >= 0)
        s->w[i >> 6] |= (uint64_t)1 << (i & 63);
}

typedef struct routeset {
    int       from_set, to_set;   /* country set indices or -1 (= any) */
    uint32_t *pairs;              /* sorted (from << 16 | to); may be empty */
    size_t    n_pairs;
} routeset;

/* ---- HS prefix trie (one for the whole set) ------------------------------ */
typedef struct hsnode {
    int32_t  kid[10];
    int32_t  bits;        /* offset into hs_bits of this node's terminal set mask, or -1 */
} hsnode;

/* ---- keyword automaton (one per pack) ------------------------------------ */
typedef struct kwpat {
    uint32_t len;         /* normalized length */
    uint32_t kwset;       /* global keyword-set index */
    bool     prefix;      /* trailing '*': no end-of-word check */
} kwpat;

typedef struct kwauto {
    uint8_t   cls[256];    /* byte → class (0 = not in any pattern) */
    uint32_t  n_cls;
    uint32_t  n_states;
    uint32_t *delta;       /* n_states × n_cls */
    uint32_t *out_start;   /* n_states + 1 into out */
    uint32_t *out;         /* pattern indices */
    kwpat    *pats;
    size_t    n_pats, cap_pats;
    /* construction trie (freed after compile) */
    char    **raw;         /* normalized pattern strings (build time) */
} kwauto;

/* ---- keyword trie (every pack's keywords, for evaluation) ---------------- */
typedef struct kwtrie {
    uint8_t   cls[256];    /* byte → class (0 = not in any keyword); A-Z and ASCII separators as a-z and ' ' */
    uint8_t   kind[256];   /* letter or digit, ASCII separator, neither (profile_kwscan.c) */
    uint32_t  n_cls;
    uint32_t  n_nodes;
    uint32_t *next;        /* n_nodes × n_cls: (child × n_cls) << 1 | child-has-output, 0 = none */
    uint32_t *out_start;   /* n_nodes + 1 into out */
    uint32_t *out;         /* kwset << 1 | prefix */
    uint64_t *tri;         /* n_cls³ bits: the walk from a word start can get past its
                            * first three classes, or hit within them (NULL: no filter) */
} kwtrie;

/* Text normalization (stops at len or at a NUL): lower case, accents stripped, every non-word ASCII
 * byte a single space. Writes at most cap bytes; returns length. */
size_t kw_normalize(const char *s, size_t len, char *out, size_t cap);

/* ---- the set --------------------------------------------------------------- */
#define PIND_MAX_AN 4
typedef struct pindicator {
    er_indicator_info info;
    uint32_t          root;       /* cnode index */
    uint8_t           n_an;       /* anomaly predicates reachable without a `not` (continuous scaling) */
    uint8_t           an_feat[PIND_MAX_AN];
    double            an_lt[PIND_MAX_AN];   /* −ln of the predicate's p threshold */
    const char       *path;
} pindicator;

/* A term of a profile's gate: HS set `set` (slot GTERM_HS) or keyword set `set` on text slot `slot`. */
#define GTERM_HS UINT32_MAX
typedef struct gterm {
    uint32_t set, slot;
} gterm;

typedef struct pprofile {
    er_profile_info info;
    uint32_t        scope;        /* cnode index */
    uint64_t        seed;         /* er_hash64(id) for random selection */
    double          logit_prior;  /* ln(prior / (1 − prior)) */
    uint8_t         pack;
    uint8_t         has_anomaly;
    uint8_t         scope_anomaly;   /* the scope itself tests an anomaly */
    int32_t         hs_gate;      /* HS set the scope requires (fast reject), or -1 */
    pindicator      *ind;
    const char     *path;         /* "profiles[3]" */
} pprofile;

typedef struct listdef {
    const char  *name, *file, *source, *date;
    const char **entries;         /* raw entries, in file order */
    uint32_t    *lines;           /* line of each entry */
    size_t       n;
    bool         ok;              /* loaded */
    int          cc_set, hs_set, str_set, kw_set;  /* compiled forms, -1 = not yet */
    int          kw_pack;
} listdef;

struct er_profileset {
    er_arena     *arena;
    const er_refdata *ref;
    int32_t       today;
    const char   *lists_dir;

    pprofile      *prof;
    size_t        n_prof, cap_prof;

    cnode        *nodes;
    size_t        n_nodes, cap_nodes;
    uint32_t     *kids;
    size_t        n_kids, cap_kids;

    strset       *strsets;   size_t n_strsets, cap_strsets;
    ccset        *ccsets;    size_t n_ccsets, cap_ccsets;
    routeset     *routes;    size_t n_routes, cap_routes;

    hsnode       *hs;        size_t n_hs, cap_hs;
    uint64_t     *hs_bits;   size_t n_hs_bits, cap_hs_bits;
    size_t        n_hssets;
    uint32_t      hs_words;  /* words per HS-set mask */
    const char ***hs_entries; size_t *hs_n_entries; /* per HS set, for describe */
    size_t        cap_hs_sets, cap_hs_sets2;
    /* HS sets are built in two phases: prefixes collected, then trie built. */
    char        **hs_pending; uint32_t *hs_pending_set; size_t n_hs_pending, cap_hs_pending, cap_hs_pending2;

    kwauto       *kw;        size_t n_packs;   /* one automaton per pack (evidence) */
    kwtrie        kwt;       /* all packs' keywords (evaluation) */
    const char  **pack_files;
    size_t        n_kwsets;
    uint32_t     *kwset_pack;  size_t cap_kwsets;
    const char ***kw_entries; size_t *kw_n_entries; size_t cap_kwsets2, cap_kwsets3;
    uint32_t      kw_words;
    const char  **slots;     size_t n_slots, cap_slots;   /* slot 0 = description */

    listdef      *lists;     size_t n_lists, cap_lists;

    /* candidate profiles: ungated ones, and per HS set the profiles it gates (CSR) */
    uint32_t     *ungated;   size_t n_ungated;
    /* profiles whose scope needs one of several HS or keyword sets (profile_load.c):
     * gated[k] is visited only when the declared code is in one of its HS sets
     * (the mask gate_hs[k * hs_words ..), against the declaration's hs_mask) or a
     * keyword term gterm[gterm_start[k] .. gterm_start[k+1]) holds */
    uint32_t     *gated;     size_t n_gated;
    uint64_t     *gate_hs;
    uint32_t     *gterm_start;
    gterm        *gterms;    size_t n_gterms;
    uint32_t     *gate_start, *gate_idx;
    /* with at most 64 gated profiles, their gates as bits (profile_eval.c,
     * each_candidate): per HS set and per keyword set of a text slot the
     * gated profiles it opens, and those with keyword terms; gate_by_hsset
     * is NULL past 64 */
    uint64_t     *gate_by_hsset;   /* n_hssets */
    uint64_t      gated_kw;
    uint64_t     *gate_by_kwset;   /* n_slots × kw_words × 64: per text slot and keyword set */
    uint32_t     *gate_slots;      /* the slots gates read, n_gate_slots of them */
    size_t        n_gate_slots;
    er_profile_result *res_template;   /* every profile out of scope */

    er_lint_msg  *msgs;      size_t n_msgs, cap_msgs;
    size_t        n_errors;

    uint64_t      hash;
    char          hash_hex[17];
};

/* Matchers (profile_match.c). */
er_status hs_build(er_profileset *s);
void      hs_lookup(const er_profileset *s, const char *hs, uint64_t *mask /* hs_words */);
er_status kw_add(kwauto *k, const char *norm, size_t len, bool prefix, uint32_t kwset);
er_status kw_build(kwauto *k);
void      kw_free(kwauto *k);
/* The trie of every pack's keywords, from the automata before kw_build frees their patterns
 * (profile_kwscan.c). The scan ORs the keyword sets matched in text into mask (kw_words): exact on
 * normalized text, and on raw text that is all ASCII (case and separator runs are folded as
 * normalization would); returns false when the text has a non-ASCII byte (raw text must then be
 * normalized and scanned again into a cleared mask). */
er_status kwt_build(kwtrie *t, const kwauto *packs, size_t n_packs);
void      kwt_free(kwtrie *t);
bool      kwt_scan(const kwtrie *t, const char *text, size_t len, uint64_t *mask);
/* The same scan of a NUL-terminated text, whose length it finds on the way (*len). */
bool      kwt_scan_str(const kwtrie *t, const char *text, uint64_t *mask, size_t *len);

/* Evaluation state of one thread (er_eval_new): per-declaration work shared by
 * every profile, computed lazily. */
struct er_eval {
    const er_profileset *s;
    er_profile_result   *res;
    uint64_t            *hs_mask;
    bool                 hs_done;
    uint64_t            *kw_mask;   /* n_slots × kw_words */
    uint8_t             *kw_done;   /* n_slots */
    char                *norm;      /* normalized text of each slot: n_slots × norm_cap */
    size_t               norm_cap;
    const er_decl       *d;
    const er_anomalies  *an;
    char                *tnorm;     /* evidence and explain: scratch for one normalized text */
    /* er_eval_scopes: per declaration of the last chunk, its HS and keyword results,
     * restored (once) by er_eval_run on the same declaration */
    uintptr_t            kept_d;     /* address of the chunk's first declaration; 0 = none */
    size_t               kept_n;
    uint8_t             *kept_use;   /* ER_EVAL_CHUNK: 1 = kept, not yet used */
    uint64_t            *kept_hs;    /* ER_EVAL_CHUNK × hs_words */
    uint64_t            *kept_kw;    /* ER_EVAL_CHUNK × n_slots × kw_words */
    uint8_t             *kept_done;  /* ER_EVAL_CHUNK × n_slots */
    /* eval_hs: the HS sets of recently seen codes (a day repeats a few
     * thousand codes), direct-mapped by the code's bytes; key 0 = empty */
    uint64_t            *hs_memo_key;   /* EVAL_HS_MEMO × 2: the code, NUL-padded */
    uint64_t            *hs_memo_mask;  /* EVAL_HS_MEMO × hs_words */
};
#define EVAL_HS_MEMO 256
/* e->hs_mask: the HS sets holding the current declaration's code (hs_lookup, memoised). */
void eval_hs(er_eval *e);
#define EVAL_TNORM_CAP (ER_LIMIT_EXTRA * 3)
void eval_reset(er_eval *e, const er_decl *d, const er_anomalies *an);
bool eval_in_window(const er_profile_info *in, const er_decl *d);   /* the profile's validity window */

/* Helpers shared by eval and describe (profile_fields.c). */
bool        strset_has(const strset *s, const char *v);
const char *pfield_str_value(const er_decl *d, pfield f, const char *extra, char *buf, size_t cap);
bool        pfield_num_value(const er_decl *d, pfield f, double *v);

#endif
