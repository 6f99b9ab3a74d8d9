/*
 * gen_declarations.c — seeded, deterministic generator of synthetic customs
 * declaration days in the canonical CSV (about 200 bytes a row), for
 * baselines, benchmarks and samples. Realistic shape: a weighted HS mix of
 * ordinary trade with wildlife / ODS / waste codes (docs/domain.md) at low
 * rates, country and route distributions, log-normal unit values and masses,
 * Zipf-like trader frequencies, dates spread over a range, and an optional
 * small rate of planted anomalies and of invalid rows. Same options and seed
 * give byte-identical output on every run.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/decl.h"

/* ---- deterministic RNG (xoshiro256**, seeded by splitmix64) ---- */

static uint64_t rs[4];

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void)
{
    uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
    rs[2] ^= rs[0];
    rs[3] ^= rs[1];
    rs[1] ^= rs[2];
    rs[0] ^= rs[3];
    rs[2] ^= t;
    rs[3] = rotl(rs[3], 45);
    return r;
}

static double unif(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static unsigned below(unsigned n) { return (unsigned)(unif() * n); }
static int chance(double p) { return unif() < p; }

static double normal(void)
{
    double u1 = unif(), u2 = unif();
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double lognormal(double median, double sigma) { return median * exp(sigma * normal()); }

/* Zipf-like rank in [0, n): P(rank < k) ~ log(k) / log(n). */
static unsigned zipf(unsigned n)
{
    double r = pow((double)n + 1.0, unif()) - 1.0;
    unsigned k = (unsigned)r;
    return k >= n ? n - 1 : k;
}

/* ---- reference tables ---- */

typedef struct hs_row {
    const char *hs;
    const char *desc;
    double      weight;      /* relative frequency */
    double      kg;          /* median net mass per declaration line */
    double      usd_kg;      /* median unit value, USD per kg */
    const char *unit;        /* KGM, NAR, PCE, LTR */
    double      kg_unit;     /* kg per unit when unit != KGM */
    char        domain;      /* 0 ordinary, 'W' wildlife, 'O' ODS, 'X' waste */
} hs_row;

static const hs_row HS[] = {
    /* ordinary trade (weights sum to ~ 97) */
    {"847130", "Portable laptop computers", 4.0, 120, 180, "PCE", 2.2, 0},
    {"851762", "Network switches and routers", 3.0, 80, 150, "PCE", 1.5, 0},
    {"851713", "Smartphones", 3.0, 60, 600, "PCE", 0.25, 0},
    {"870323", "Passenger cars, spark ignition 1500-3000 cc", 2.0, 1500, 14, "NAR", 1450, 0},
    {"870899", "Motor vehicle parts", 3.5, 900, 9, "KGM", 0, 0},
    {"610910", "T-shirts of cotton, knitted", 4.0, 400, 18, "PCE", 0.2, 0},
    {"620342", "Men's trousers of cotton", 3.0, 350, 22, "PCE", 0.5, 0},
    {"640299", "Footwear, rubber or plastic soles", 2.5, 300, 20, "PCE", 0.8, 0},
    {"392390", "Plastic articles for packing goods", 3.0, 800, 3.5, "KGM", 0, 0},
    {"392010", "Polyethylene film and sheet", 2.0, 2000, 2.2, "KGM", 0, 0},
    {"390110", "Polyethylene, density < 0.94, primary form", 2.0, 20000, 1.2, "KGM", 0, 0},
    {"720851", "Flat-rolled iron or steel, hot-rolled, > 10 mm", 2.0, 24000, 0.8, "KGM", 0, 0},
    {"730890", "Structures and parts of iron or steel", 2.0, 3000, 3, "KGM", 0, 0},
    {"940360", "Wooden furniture", 2.5, 900, 6, "PCE", 25, 0},
    {"950300", "Toys, scale models and puzzles", 3.0, 500, 9, "KGM", 0, 0},
    {"300490", "Medicaments in measured doses", 2.5, 150, 120, "KGM", 0, 0},
    {"080390", "Bananas, fresh", 2.0, 18000, 0.9, "KGM", 0, 0},
    {"090111", "Coffee, not roasted, not decaffeinated", 1.5, 19000, 4.5, "KGM", 0, 0},
    {"220421", "Wine of fresh grapes, in containers <= 2 l", 2.0, 9000, 6, "LTR", 1.3, 0},
    {"030389", "Fish, frozen, other", 1.5, 12000, 3, "KGM", 0, 0},
    {"160414", "Tunas, prepared or preserved", 1.0, 15000, 6, "KGM", 0, 0},
    {"271019", "Medium oils and preparations of petroleum", 2.0, 30000, 0.9, "KGM", 0, 0},
    {"290121", "Ethylene", 0.5, 50000, 1.0, "KGM", 0, 0},
    {"293339", "Heterocyclic compounds, pyridine ring", 1.0, 300, 45, "KGM", 0, 0},
    {"330499", "Beauty or make-up preparations", 2.0, 250, 25, "KGM", 0, 0},
    {"401110", "New pneumatic tyres for cars", 2.0, 5000, 4, "PCE", 9, 0},
    {"440710", "Coniferous wood, sawn lengthwise", 1.5, 25000, 0.35, "KGM", 0, 0},
    {"481910", "Cartons and boxes of corrugated paper", 1.5, 3000, 1.4, "KGM", 0, 0},
    {"520513", "Cotton yarn, single, uncombed", 1.0, 15000, 3, "KGM", 0, 0},
    {"690722", "Ceramic flags and tiles", 1.5, 20000, 0.6, "KGM", 0, 0},
    {"732393", "Table and kitchen articles of stainless steel", 1.5, 1500, 5.5, "KGM", 0, 0},
    {"841430", "Compressors for refrigerating equipment", 1.0, 900, 14, "PCE", 12, 0},
    {"841869", "Refrigerating or freezing equipment, other", 0.8, 2500, 8, "PCE", 120, 0},
    {"847989", "Machines with individual functions, other", 2.5, 2500, 25, "PCE", 300, 0},
    {"850440", "Static converters", 2.0, 400, 40, "PCE", 2, 0},
    {"850760", "Lithium-ion accumulators", 2.0, 1200, 18, "PCE", 0.5, 0},
    {"852872", "Television receivers, colour", 1.5, 2500, 12, "PCE", 15, 0},
    {"854140", "Photosensitive semiconductor devices, solar cells", 2.0, 6000, 9, "PCE", 22, 0},
    {"880330", "Parts of aeroplanes or helicopters", 0.5, 300, 400, "KGM", 0, 0},
    {"901890", "Medical instruments and appliances", 1.5, 200, 150, "KGM", 0, 0},
    {"940540", "Electric lamps and lighting fittings", 1.5, 700, 14, "PCE", 1.5, 0},
    {"960330", "Artists' brushes, writing brushes", 0.5, 150, 20, "PCE", 0.02, 0},
    /* wildlife (CITES), low rates */
    {"010690", "Live animals, other (reptiles)", 0.06, 40, 90, "NAR", 0.4, 'W'},
    {"010620", "Live reptiles, tortoises", 0.03, 30, 120, "NAR", 1.2, 'W'},
    {"030192", "Live eels, glass eels", 0.03, 150, 900, "KGM", 0, 'W'},
    {"030571", "Shark fins, dried", 0.03, 300, 95, "KGM", 0, 'W'},
    {"030572", "Fish maws, dried", 0.02, 80, 600, "KGM", 0, 'W'},
    {"030781", "Abalone, live, fresh or chilled", 0.02, 400, 45, "KGM", 0, 'W'},
    {"030811", "Sea cucumbers, live, fresh or chilled", 0.02, 500, 60, "KGM", 0, 'W'},
    {"050790", "Tortoise-shell, horns, antlers, other", 0.02, 60, 150, "KGM", 0, 'W'},
    {"050710", "Ivory, powder and waste", 0.005, 20, 700, "KGM", 0, 'W'},
    {"051199", "Animal products, other", 0.04, 300, 20, "KGM", 0, 'W'},
    {"060290", "Live plants, other (orchids, cacti)", 0.05, 250, 30, "NAR", 0.3, 'W'},
    {"121190", "Plants used in pharmacy, other", 0.05, 600, 12, "KGM", 0, 'W'},
    {"411330", "Leather of reptiles", 0.02, 90, 250, "KGM", 0, 'W'},
    {"430180", "Raw furskins, other", 0.01, 120, 80, "KGM", 0, 'W'},
    {"440349", "Tropical wood in the rough, other", 0.04, 22000, 0.6, "KGM", 0, 'W'},
    {"440729", "Tropical wood sawn lengthwise (rosewood)", 0.04, 18000, 1.5, "KGM", 0, 'W'},
    {"960190", "Worked bone, horn, coral, other", 0.02, 40, 110, "KGM", 0, 'W'},
    /* ODS / HFCs (Montreal Protocol) */
    {"290371", "Chlorodifluoromethane (HCFC-22)", 0.02, 4000, 4, "KGM", 0, 'O'},
    {"290341", "Trifluoromethane (HFC-23)", 0.01, 800, 20, "KGM", 0, 'O'},
    {"290343", "Tetrafluoroethanes (HFC-134a)", 0.05, 5000, 6, "KGM", 0, 'O'},
    {"290349", "Other saturated fluorinated derivatives (HFCs)", 0.04, 3000, 7, "KGM", 0, 'O'},
    {"290361", "Methyl bromide", 0.005, 1000, 6, "KGM", 0, 'O'},
    {"382764", "Mixtures containing HFCs (R-404A, R-407C)", 0.04, 3000, 8, "KGM", 0, 'O'},
    {"382711", "Mixtures containing CFCs", 0.003, 500, 8, "KGM", 0, 'O'},
    {"841510", "Air conditioning machines, window or wall", 0.3, 3000, 9, "PCE", 40, 'O'},
    {"842410", "Fire extinguishers, charged or not", 0.1, 1500, 7, "PCE", 12, 'O'},
    /* waste (Basel) */
    {"391510", "Waste, parings and scrap of polyethylene", 0.06, 22000, 0.25, "KGM", 0, 'X'},
    {"391590", "Waste, parings and scrap of other plastics", 0.06, 21000, 0.2, "KGM", 0, 'X'},
    {"470790", "Recovered paper or paperboard, other", 0.05, 24000, 0.15, "KGM", 0, 'X'},
    {"401220", "Used pneumatic tyres", 0.04, 15000, 0.3, "KGM", 0, 'X'},
    {"630910", "Worn clothing and other worn articles", 0.08, 20000, 0.8, "KGM", 0, 'X'},
    {"720449", "Ferrous waste and scrap, other", 0.1, 25000, 0.35, "KGM", 0, 'X'},
    {"740400", "Copper waste and scrap", 0.05, 20000, 7, "KGM", 0, 'X'},
    {"760200", "Aluminium waste and scrap", 0.05, 20000, 1.6, "KGM", 0, 'X'},
    {"854911", "Waste and scrap of lead-acid accumulators", 0.02, 20000, 0.5, "KGM", 0, 'X'},
    {"382510", "Municipal waste", 0.005, 20000, 0.05, "KGM", 0, 'X'},
    {"262011", "Hard zinc spelter (ash and residues)", 0.01, 20000, 1.1, "KGM", 0, 'X'},
    {"271099", "Waste oils, other", 0.02, 18000, 0.3, "KGM", 0, 'X'},
};
#define N_HS (sizeof HS / sizeof HS[0])

typedef struct wstr {
    const char *s;
    double      w;
} wstr;

static const wstr ORIGINS[] = {
    {"CN", 30}, {"US", 8}, {"DE", 6}, {"VN", 4}, {"IN", 4}, {"JP", 3}, {"KR", 3}, {"TR", 3},
    {"IT", 3},  {"GB", 3}, {"FR", 3}, {"TH", 2}, {"MY", 2}, {"ID", 2}, {"BR", 2}, {"MX", 1.5},
    {"TW", 2},  {"PL", 2}, {"ES", 2}, {"BD", 1.5}, {"PK", 1}, {"EG", 0.5}, {"ZA", 0.8},
    {"NG", 0.5}, {"CM", 0.2}, {"CD", 0.1}, {"CG", 0.1}, {"MG", 0.2}, {"GH", 0.3}, {"KE", 0.4},
    {"AU", 1},  {"CA", 1}, {"CL", 0.7}, {"PE", 0.5}, {"AR", 0.5}, {"SG", 1}, {"AE", 1},
    {"HK", 1},  {"CH", 1}, {"NO", 0.6}, {"RU", 0.3}, {"UA", 0.3}, {"SA", 0.5}, {"PH", 0.8},
};
static const wstr DESTS[] = {
    {"US", 10}, {"CN", 8}, {"GB", 6}, {"DE", 6}, {"FR", 5}, {"BE", 4}, {"ES", 3}, {"IT", 3},
    {"PL", 3},  {"TR", 3}, {"IN", 3}, {"MY", 2}, {"VN", 2}, {"ID", 2}, {"TH", 1.5}, {"NG", 1.5},
    {"GH", 1},  {"SN", 0.5}, {"AE", 2}, {"SA", 1}, {"JP", 2}, {"KR", 2}, {"BR", 1}, {"MA", 1},
};
static const char *const HUBS[] = {"SG", "AE", "HK", "BE", "MY", "PA", "LK", "OM", "TR", "MA"};
static const wstr CURRENCIES[] = {{"EUR", 60}, {"USD", 30}, {"CNY", 5}, {"GBP", 3}, {"JPY", 2}};
static const double CUR_PER_USD[] = {0.866, 1.0, 7.11, 0.76, 156};
static const char *const PACKING[] = {"in cartons", "on pallets", "in bulk", "in drums",
                                      "in bags", "in crates", "in bales", "in cylinders",
                                      "in boxes", "loose"};
static const char *const OWNERS[] = {"MSC", "MAE", "CMA", "HLX", "EGH", "COS", "ONE", "YML",
                                     "HMM", "ZIM", "OOL", "TGH", "SEG", "TCL", "FCI"};

static const char *pick(const wstr *t, size_t n, size_t *idx)
{
    double tot = 0;
    for (size_t i = 0; i < n; i++)
        tot += t[i].w;
    double u = unif() * tot;
    for (size_t i = 0; i < n; i++) {
        u -= t[i].w;
        if (u < 0) {
            if (idx)
                *idx = i;
            return t[i].s;
        }
    }
    if (idx)
        *idx = n - 1;
    return t[n - 1].s;
}

static const hs_row *pick_hs(void)
{
    static double tot = 0;
    if (tot == 0)
        for (size_t i = 0; i < N_HS; i++)
            tot += HS[i].weight;
    double u = unif() * tot;
    for (size_t i = 0; i < N_HS; i++) {
        u -= HS[i].weight;
        if (u < 0)
            return &HS[i];
    }
    return &HS[N_HS - 1];
}


/* Ordinary lines drawn only in benchmark mode (1% of rows), so that every
 * cover code of the planted patterns also occurs in honest trade and in the
 * history: a cover code must not be a signal by itself. */
static const hs_row HS_EXTRA[] = {
    {"410390", "Raw hides and skins, other", 1, 2000, 3, "KGM", 0, 0},
    {"382799", "Mixtures of halogenated derivatives, other", 1, 1500, 8, "KGM", 0, 0},
    {"847330", "Parts and accessories of computers", 1, 300, 60, "KGM", 0, 0},
    {"390190", "Polymers of ethylene, primary, other", 1, 20000, 1.4, "KGM", 0, 0},
    {"442090", "Wooden ornaments and caskets", 1, 400, 12, "KGM", 0, 0},
    {"410719", "Bovine leather, tanned, other", 1, 1500, 15, "KGM", 0, 0},
    {"420221", "Handbags, outer surface of leather", 1, 300, 60, "PCE", 0.8, 0},
    {"400400", "Waste and scrap of rubber, granules", 1, 20000, 0.2, "KGM", 0, 0},
    {"030199", "Live fish, other", 1, 200, 40, "KGM", 0, 0},
    {"030559", "Dried fish, other", 1, 2000, 9, "KGM", 0, 0},
    {"030111", "Live ornamental fish, freshwater", 1, 80, 60, "KGM", 0, 0},
    {"290351", "Unsaturated fluorinated derivatives (HFO-1234yf)", 1, 1500, 40, "KGM", 0, 0},
    {"731100", "Containers for compressed gas, iron or steel", 1, 3000, 4, "PCE", 14, 0},
};
#define N_HS_EXTRA (sizeof HS_EXTRA / sizeof HS_EXTRA[0])

static const hs_row *find_hs(const char *code)
{
    for (size_t i = 0; i < N_HS; i++)
        if (strncmp(HS[i].hs, code, 6) == 0)
            return &HS[i];
    for (size_t i = 0; i < N_HS_EXTRA; i++)
        if (strncmp(HS_EXTRA[i].hs, code, 6) == 0)
            return &HS_EXTRA[i];
    return NULL;
}

/* ---- labelled detection benchmark (--illicit-rate; docs/scoring.md,
 * "Detection benchmark") ----
 * Planted illicit cases follow how such consignments are really declared,
 * not what the shipped packs test: each pattern has a true commodity, the
 * HS codes and descriptions it hides under, the source countries and routes
 * of the trade, and a concealment mix: CLEAN (declared as an ordinary line
 * of the declared commodity at an ordinary price by an established trader on
 * an ordinary route: no signal at all), COVER (under a cover commodity's HS
 * code and wording, with some of the trade's route/price traits) and SIGNAL
 * (under its own or a neighbouring code with price, mass, route or trader
 * signals, each present only some of the time). Benign look-alikes (label 0)
 * hit the same rules; data-entry noise (label 0) moves ordinary rows. */

typedef struct brow {   /* the fields of one row the benchmark may rewrite */
    char *hs, *desc, *origin, *exp_c, *dest, *transit, *importer, *exporter;
    const char **flow, **mode;
    double *net, *gross, *usd;
    unsigned long long i;
} brow;

typedef struct bpattern {
    const char *name, *domain;
    double      weight;            /* share of the illicit cases */
    double      clean, cover;      /* concealment mix; signal = rest */
    const char *own_hs[3];         /* codes of the true or a neighbouring commodity */
    const char *own_desc[3];
    const char *cover_hs[3];       /* cover commodity */
    const char *cover_desc[3];
    const char *sources[6];        /* origin countries of the trade */
    const char *flow;              /* IM (into the declaring country) or EX */
    const char *dests[4];          /* for EX */
    double      kg, usd_kg;        /* typical consignment and true-market declared price */
    const char *mode;              /* typical mode */
} bpattern;

static const bpattern PATTERNS[] = {
    {"pangolin-scales", "wildlife", 0.10, 0.12, 0.48,
     {"051199", "050790", "960190"}, {"Animal scales, dried", "Horn and scale products, unworked", "Worked animal scales"},
     {"030572", "121190", "051199"}, {"Dried fish maws", "Dried herbal material for traditional medicine", "Animal products, other, dried"},
     {"NG", "CM", "CD", "CG", "GH", NULL}, "IM", {NULL}, 250, 25, "AIR"},
    {"ivory-as-bone", "wildlife", 0.10, 0.12, 0.55,
     {"960190", "050790", "960190"}, {"Bone handicrafts, carved", "Worked bone carvings", "Carved bone figurines"},
     {"960190", "940360", "442090"}, {"Carved bone handicrafts, resin", "Wooden furniture with inlays", "Wooden ornaments and statuettes"},
     {"NG", "CM", "CD", "KE", "MZ", NULL}, "IM", {NULL}, 60, 60, "AIR"},
    {"rosewood-logs", "wildlife", 0.10, 0.12, 0.45,
     {"440349", "440729", "440349"}, {"Tropical hardwood logs", "Sawn tropical hardwood", "Hardwood in the rough"},
     {"440710", "440349", "940360"}, {"Sawn timber, other", "Hardwood logs, okoume", "Wooden furniture parts"},
     {"MG", "GH", "NG", "CG", "GM", NULL}, "IM", {NULL}, 22000, 0.7, "SEA"},
    {"glass-eels", "wildlife", 0.10, 0.12, 0.40,
     {"030192", "030192", "030192"}, {"Live eels", "Live eels, farmed, for restocking", "Live fish, eels"},
     {"030389", "030199", "160414"}, {"Frozen fish, other", "Live ornamental fish", "Fish, chilled"},
     {"FR", "ES", "PT", "NL", NULL, NULL}, "EX", {"HK", "CN", "MY", "TH"}, 60, 900, "AIR"},
    {"reptile-skins", "wildlife", 0.10, 0.12, 0.45,
     {"411330", "410390", "411330"}, {"Leather of reptiles, tanned", "Raw skins, other", "Leather, exotic, tanned"},
     {"410719", "420221", "411330"}, {"Bovine leather, tanned", "Handbags with outer surface of leather", "Leather of reptiles, crocodile, farmed"},
     {"ID", "MY", "MG", "VN", "NG", NULL}, "IM", {NULL}, 90, 250, "AIR"},
    {"shark-fin", "wildlife", 0.06, 0.12, 0.45,
     {"030571", "030571", "030559"}, {"Shark fins, dried", "Dried shark fins, blue shark", "Dried fish, other"},
     {"030559", "030389", "160414"}, {"Dried fish, other", "Frozen fish, other", "Fish, prepared"},
     {"PE", "EC", "ID", "AE", "YE", NULL}, "IM", {NULL}, 300, 95, "AIR"},
    {"totoaba-maw", "wildlife", 0.04, 0.12, 0.45,
     {"030572", "030572", "030572"}, {"Dried fish maws", "Fish swim bladders, dried", "Fish maws, croaker"},
     {"030572", "030559", "030389"}, {"Dried fish maws, croaker", "Dried fish, other", "Frozen fish, other"},
     {"MX", "US", NULL, NULL, NULL, NULL}, "IM", {NULL}, 60, 600, "AIR"},
    {"live-reptiles-as-fish", "wildlife", 0.05, 0.12, 0.50,
     {"010620", "010690", "030111"}, {"Live tortoises", "Live animals, other", "Live ornamental fish, freshwater"},
     {"030111", "030199", "060290"}, {"Live ornamental fish, freshwater", "Live fish, other", "Live plants"},
     {"MG", "ID", "TG", "BJ", "GH", NULL}, "IM", {NULL}, 30, 120, "AIR"},
    {"hcfc22-as-hfc134a", "ods", 0.10, 0.12, 0.50,
     {"290343", "290349", "290343"}, {"HFC-134a refrigerant gas in cylinders", "Refrigerant gas R-134a", "Tetrafluoroethane refrigerant"},
     {"290343", "382764", "841869"}, {"HFC-134a, in returnable ISO tanks", "Refrigerant blend R-407C", "Refrigerating equipment parts"},
     {"CN", "IN", "TR", "AE", NULL, NULL}, "IM", {NULL}, 4000, 6, "SEA"},
    {"cfc12-as-blend", "ods", 0.08, 0.12, 0.50,
     {"382764", "382799", "382764"}, {"Refrigerant blend R-404A", "Refrigerant mixture, other", "Refrigerant blend R-407C"},
     {"382764", "290349", "271019"}, {"Refrigerant blend R-410A", "Other fluorinated derivatives", "Lubricating preparations"},
     {"CN", "IN", "RU", "UA", "AE", NULL}, "IM", {NULL}, 1500, 8, "SEA"},
    {"hfc-as-hfo-cylinders", "ods", 0.06, 0.12, 0.45,
     {"290351", "731100", "290349"}, {"HFO-1234yf refrigerant", "Steel gas cylinders, non-refillable", "Refrigerant gas, other"},
     {"290351", "731100", "841869"}, {"HFO-1234yf, low-GWP refrigerant", "Containers for compressed gas, steel", "Refrigerating equipment parts"},
     {"CN", "TR", "UA", "AE", NULL, NULL}, "IM", {NULL}, 2500, 9, "ROAD"},
    {"e-waste-as-used-computers", "waste", 0.10, 0.12, 0.45,
     {"847130", "847330", "852872"}, {"Used computers, tested", "Used computer parts", "Used television receivers"},
     {"847130", "854140", "847989"}, {"Laptop computers", "Solar panels, second-hand", "Machines, other"},
     {NULL}, "EX", {"GH", "NG", "PK", "TZ"}, 12000, 0.6, "SEA"},
    {"plastic-waste-as-polymer", "waste", 0.08, 0.12, 0.45,
     {"390110", "391510", "390190"}, {"Polyethylene in primary form", "Polyethylene scrap, sorted", "Polyethylene regrind"},
     {"390110", "392010", "392390"}, {"Polyethylene, primary, granules", "Polyethylene film", "Plastic packing articles"},
     {NULL}, "EX", {"MY", "VN", "ID", "TR"}, 22000, 0.25, "SEA"},
    {"used-tyres", "waste", 0.07, 0.12, 0.45,
     {"401220", "401220", "401110"}, {"Used pneumatic tyres, part-worn", "Part-worn tyres for re-use", "Pneumatic tyres"},
     {"401110", "400400", "870899"}, {"New pneumatic tyres", "Rubber, granules", "Motor vehicle parts"},
     {NULL}, "EX", {"NG", "GH", "SN", "PK"}, 15000, 0.3, "SEA"},
    {"metal-scrap-crt-batteries", "waste", 0.07, 0.12, 0.45,
     {"720449", "760200", "740400"}, {"Mixed metal scrap", "Aluminium scrap, mixed", "Copper scrap, mixed"},
     {"720449", "730890", "760200"}, {"Ferrous scrap, HMS 1/2", "Steel structures, dismantled", "Aluminium scrap, clean"},
     {NULL}, "EX", {"IN", "PK", "NG", "GH"}, 22000, 0.35, "SEA"},
};
#define N_PATTERNS (sizeof PATTERNS / sizeof PATTERNS[0])

typedef struct blookalike {
    const char *name, *hs, *desc, *flow, *origin[4], *dest[4], *mode;
    double      kg, usd_kg;
} blookalike;

static const blookalike LOOKALIKES[] = {
    {"lookalike:cites-permitted", "411330", "Leather of reptiles, CITES permit attached", "IM", {"ID", "MY", "MG", "VN"}, {NULL}, "AIR", 90, 250},
    {"lookalike:cites-permitted", "060290", "Live orchids, artificially propagated, CITES permit", "IM", {"TH", "TW", "MG", "BR"}, {NULL}, "AIR", 250, 30},
    {"lookalike:cites-permitted", "440729", "Sawn tropical hardwood, FSC certified, CITES permit", "IM", {"GH", "CM", "CG", "BR"}, {NULL}, "SEA", 18000, 1.5},
    {"lookalike:farmed-eel", "030192", "Live eels, farmed, Anguilla anguilla > 12 cm, CITES permit", "EX", {NULL}, {"HK", "CN", "JP", "KR"}, "AIR", 400, 60},
    {"lookalike:licensed-hfc", "290343", "HFC-134a refrigerant in refillable cylinders, quota licence", "IM", {"CN", "IN", "US", "DE"}, {NULL}, "SEA", 5000, 6},
    {"lookalike:licensed-hfc", "382764", "Refrigerant blend R-404A, quota licence", "IM", {"CN", "US", "FR", "JP"}, {NULL}, "SEA", 3000, 8},
    {"lookalike:legit-scrap", "720449", "Ferrous scrap HMS 1/2, sorted", "EX", {NULL}, {"TR", "IN", "EG", "PK"}, "SEA", 25000, 0.35},
    {"lookalike:legit-polymer", "391510", "Polyethylene scrap, clean sorted, single polymer", "EX", {NULL}, {"MY", "VN", "TR", "IN"}, "SEA", 22000, 0.25},
    {"lookalike:refurbished-electronics", "847130", "Refurbished laptops, tested, individually packed, warranty", "EX", {NULL}, {"GH", "NG", "KE", "SN"}, "SEA", 2000, 90},
    {"lookalike:part-worn-tyres", "401220", "Part-worn tyres, graded, tread > 2 mm", "EX", {NULL}, {"GH", "NG", "SN", "MA"}, "SEA", 15000, 0.45},
};
#define N_LOOKALIKES (sizeof LOOKALIKES / sizeof LOOKALIKES[0])

static const char *pick_null(const char *const *t, unsigned n)
{
    unsigned k = 0;
    while (k < n && t[k])
        k++;
    return k ? t[below(k)] : NULL;
}

static void bench_route(brow *r, const char *flow, const char *origin, const char *dest,
                        const char *cc)
{
    *r->flow = flow;
    if (flow[0] == 'E') {
        snprintf(r->origin, 3, "%.2s", origin);   /* goods of origin elsewhere leave via cc */
        snprintf(r->exp_c, 3, "%.2s", cc);
        snprintf(r->dest, 3, "%s", dest);
    } else {
        snprintf(r->origin, 3, "%s", origin);
        snprintf(r->exp_c, 3, "%s", origin);
        snprintf(r->dest, 3, "%.2s", cc);
    }
}

/* One planted illicit case; returns the pattern's name. */
static const char *bench_illicit(brow *r, const char *cc)
{
    double tot = 0, u;
    for (size_t k = 0; k < N_PATTERNS; k++)
        tot += PATTERNS[k].weight;
    u = unif() * tot;
    size_t k = 0;
    while (k + 1 < N_PATTERNS && (u -= PATTERNS[k].weight) >= 0)
        k++;
    const bpattern *p = &PATTERNS[k];
    double c = unif();
    unsigned j = below(3);
    const char *src = pick_null(p->sources, 6), *dst = pick_null(p->dests, 4);
    if (!src)
        src = p->flow[0] == 'E' ? cc : pick(ORIGINS, sizeof ORIGINS / sizeof *ORIGINS, NULL);
    if (!dst)
        dst = pick(DESTS, sizeof DESTS / sizeof *DESTS, NULL);
    *r->net = lognormal(p->kg, 0.8);
    *r->mode = p->mode;
    if (c < p->clean) {
        /* CLEAN: an ordinary line of the declared commodity, ordinary price,
         * established trader, ordinary route: what this row shows is what
         * honest trade in the declared goods shows. */
        const hs_row *h = NULL;
        for (size_t q = 0; q < N_HS; q++)
            if (strcmp(HS[q].hs, p->cover_hs[0]) == 0)
                h = &HS[q];
        snprintf(r->hs, 16, "%s", p->cover_hs[0]);
        snprintf(r->desc, 160, "%s", p->cover_desc[0]);
        if (h) {
            *r->net = lognormal(h->kg, 0.8);
            *r->usd = *r->net * lognormal(h->usd_kg, 0.45);
        } else {
            *r->usd = *r->net * lognormal(p->usd_kg, 0.45);
        }
        bench_route(r, p->flow, p->flow[0] == 'E' ? cc : pick(ORIGINS, sizeof ORIGINS / sizeof *ORIGINS, NULL), dst, cc);
        r->transit[0] = '\0';
    } else if (c < p->clean + p->cover) {
        /* COVER: the cover commodity's code and wording, the trade's own
         * sources and routes, a price somewhat low for the cover. */
        snprintf(r->hs, 16, "%s", p->cover_hs[j]);
        snprintf(r->desc, 160, "%s", p->cover_desc[j]);
        const hs_row *h = find_hs(p->cover_hs[j]);
        *r->usd = *r->net * lognormal(h ? h->usd_kg : p->usd_kg, 0.5) * (chance(0.4) ? 0.4 : 1.0);
        bench_route(r, p->flow, src, dst, cc);
        if (chance(0.5))
            snprintf(r->transit, 16, "%s", HUBS[below(4)]);
    } else {
        /* SIGNAL: own or neighbouring code; each signal only some of the time */
        snprintf(r->hs, 16, "%s", p->own_hs[j]);
        snprintf(r->desc, 160, "%s", p->own_desc[j]);
        *r->usd = *r->net * lognormal(p->usd_kg, 0.5) * (chance(0.6) ? 0.2 + 0.3 * unif() : 1.0);
        bench_route(r, p->flow, src, dst, cc);
        if (chance(0.6))
            snprintf(r->transit, 16, "%s", HUBS[below(5)]);
        if (chance(0.4))
            snprintf(r->importer, 16, "IMP%06u", 15000 + below(5000));   /* rarely seen trader */
        if (chance(0.3))
            *r->gross = *r->net * (1.6 + unif());
        if (chance(0.25))
            *r->net *= 3 + 3 * unif();   /* consignment far larger than the trade's usual */
    }
    if (*r->gross < *r->net * 1.01)
        *r->gross = *r->net * (1.02 + 0.25 * unif());
    return p->name;
}

static const char *bench_lookalike(brow *r, const char *cc)
{
    const blookalike *l = &LOOKALIKES[below(N_LOOKALIKES)];
    const char *src = pick_null(l->origin, 4), *dst = pick_null(l->dest, 4);
    snprintf(r->hs, 16, "%s", l->hs);
    snprintf(r->desc, 160, "%s", l->desc);
    bench_route(r, l->flow, src ? src : cc, dst ? dst : "US", cc);
    *r->mode = l->mode;
    *r->net = lognormal(l->kg, 0.8);
    *r->usd = *r->net * lognormal(l->usd_kg, 0.45);
    *r->gross = *r->net * (1.02 + 0.25 * unif());
    if (strcmp(l->name, "lookalike:licensed-hfc") == 0)
        snprintf(r->importer, 16, "IMP-LIC-000%u", 1 + below(3));
    if (chance(0.3))
        snprintf(r->transit, 16, "%s", HUBS[below(10)]);
    return l->name;
}

static const char *bench_noise(brow *r)
{
    switch (below(3)) {
    case 0:   /* grams entered as kilograms */
        *r->net *= 1000;
        *r->gross *= 1000;
        return "noise:grams-as-kg";
    case 1: *r->usd *= 10; return "noise:value-x10";
    default: *r->usd /= 10; return "noise:value-div10";
    }
}

/* ISO 6346 check digit. */
static int iso6346_check(const char *c10)
{
    static const int letter[26] = {10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24,
                                   25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 36, 37, 38};
    int sum = 0;
    for (int i = 0; i < 10; i++) {
        int v = c10[i] >= 'A' ? letter[c10[i] - 'A'] : c10[i] - '0';
        sum += v << i;
    }
    return sum % 11 % 10;
}

/* ---- CSV output ---- */

static void put_field(FILE *o, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', o);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', o);
            fputc(*s, o);
        }
        fputc('"', o);
    } else {
        fputs(s, o);
    }
}

static void put_num(FILE *o, double v, int decimals)
{
    char b[64];
    snprintf(b, sizeof b, "%.*f", decimals, v);
    fputs(b, o);
}

typedef struct opts {
    unsigned long long rows;
    uint64_t seed;
    int32_t  start;
    int      days;
    double   anomaly_rate, invalid_rate;
    const char *country, *out;
    int      label, jsonl;
    double   illicit_rate, lookalike_rate, noise_rate;   /* detection benchmark */
} opts;

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: gen_declarations [options]\n\n"
        "Writes synthetic customs declarations in the canonical CSV of ecorisk\n"
        "(header: id,date,flow,declarant,importer,exporter,hs,description,origin,\n"
        "export_country,destination,transit,mode,office,net_kg,gross_kg,quantity,unit,\n"
        "value,currency,packages,container), about 200 bytes a row, sorted by date.\n"
        "Deterministic: the same options and seed give byte-identical output.\n\n"
        "Options:\n"
        "  -n, --rows N            rows to write (default 10000)\n"
        "  -s, --seed N            random seed (default 1)\n"
        "      --start YYYY-MM-DD  first declaration date (default 2026-01-05)\n"
        "      --days N            spread rows evenly over N days (default 1)\n"
        "      --country XX        the declaring administration (default NL): destination\n"
        "                          of imports, origin of exports\n"
        "      --anomaly-rate R    share of rows with a planted risk pattern (default 0.002):\n"
        "                          under-valuation, gross >> net, bad container check digit,\n"
        "                          mis-described refrigerant, unusual transit route, new importer\n"
        "      --invalid-rate R    share of rows that must fail validation (default 0): bad HS,\n"
        "                          negative mass, gross < net, unknown country or currency,\n"
        "                          bad date or mode, empty id, duplicate id, stray quote, field count\n"
        "      --label             add a last column 'planted' naming the planted pattern\n"
        "                          (or invalid kind); empty for ordinary rows\n"
        "      --illicit-rate R    detection benchmark (docs/scoring.md): share of rows that are\n"
        "                          planted illicit cases of 15 wildlife / ODS / waste patterns,\n"
        "                          with columns illicit (0/1) and pattern added last\n"
        "      --lookalike-rate R  share of benign look-alikes (label 0; default 2x illicit)\n"
        "      --noise-rate R      share of data-entry noise rows (label 0; default 1x illicit)\n"
        "      --format FMT        csv (default) or jsonl (canonical keys, numbers as JSON\n"
        "                          numbers, transit as an array, empty fields omitted)\n"
        "  -o, --output FILE       write to FILE instead of stdout\n"
        "  -h, --help              this help\n\n"
        "Mix: ~95%% ordinary trade (42 common HS6 lines), wildlife (CITES) ~0.6%%, ODS/HFC\n"
        "~0.6%%, waste ~0.7%%; flows IM 80%% / EX 17%% / TR 3%%; importers Zipf-like over 20000\n"
        "ids, exporters over 30000, declarants over 400; log-normal masses (sigma 1.0) and\n"
        "unit values (sigma 0.45) around per-HS medians; values in EUR/USD/CNY/GBP/JPY.\n");
}

static const char *const INVALID_KINDS[] = {"bad_hs", "negative", "gross_lt_net", "bad_country",
                                            "bad_currency", "bad_date", "bad_mode", "missing_id",
                                            "duplicate_id", "stray_quote", "field_count"};
#define N_INVALID (sizeof INVALID_KINDS / sizeof INVALID_KINDS[0])
static const char *const ANOMALY_KINDS[] = {"undervalued", "gross_heavy", "container_check",
                                            "misdescribed_refrigerant", "unusual_route",
                                            "new_importer"};
#define N_ANOMALY (sizeof ANOMALY_KINDS / sizeof ANOMALY_KINDS[0])

static int generate(const opts *op, FILE *o)
{
    uint64_t sm = op->seed;
    for (int i = 0; i < 4; i++)
        rs[i] = splitmix(&sm);
    char tag[5];
    uint64_t th = splitmix(&sm);
    for (int i = 0; i < 4; i++)
        tag[i] = "ABCDEFGHJKLMNPQRSTUVWXYZ"[(th >> (i * 8)) % 24];
    tag[4] = '\0';
    const char *cc = op->country;
    char offices[5][6];
    static const char *const suffix[5] = {"RTM", "AMS", "SPL", "VLI", "MOE"};
    for (int i = 0; i < 5; i++)
        snprintf(offices[i], sizeof offices[i], "%.2s%s", cc, suffix[i]);

    int bench = op->illicit_rate > 0 || op->lookalike_rate > 0 || op->noise_rate > 0;
    if (!op->jsonl) {
        fputs("id,date,flow,declarant,importer,exporter,hs,description,origin,export_country,"
              "destination,transit,mode,office,net_kg,gross_kg,quantity,unit,value,currency,"
              "packages,container", o);
        fputs(op->label ? ",planted" : "", o);
        fputs(bench ? ",illicit,pattern\n" : "\n", o);
    }
    char prev_id[32] = "";
    for (unsigned long long i = 0; i < op->rows; i++) {
        int32_t day = op->start + (int32_t)(op->days > 1 ? (i * (unsigned long long)op->days) / op->rows : 0);
        char date[11];
        er_date_format(day, date);
        char id[32], declarant[16], importer[16], exporter[16], hs[16], desc[160];
        char origin[3], exp_c[3], dest[3], transit[16] = "", container[16] = "";
        const char *mode, *office, *flow, *cur, *planted = "";
        snprintf(id, sizeof id, "%.2s%.2s%s%010llu", date + 2, cc, tag, i + 1);
        snprintf(declarant, sizeof declarant, "DCL%04u", zipf(400));
        snprintf(importer, sizeof importer, "IMP%06u", zipf(20000));
        snprintf(exporter, sizeof exporter, "EXP%06u", zipf(30000));
        const hs_row *h = pick_hs();
        if (bench && chance(0.01))
            h = &HS_EXTRA[below(N_HS_EXTRA)];
        snprintf(hs, sizeof hs, "%s", h->hs);
        if (chance(0.2))
            snprintf(hs, sizeof hs, "%s%02u", h->hs, below(10) * 10);   /* national 8-digit */
        if (chance(0.85)) {
            /* One draw per statement: argument evaluation order is unspecified in C,
             * so draws inside one call would differ between compilers. */
            unsigned lot = below(100000), l2 = below(26), l1 = below(26), pk = below(10);
            snprintf(desc, sizeof desc, "%s; %s, lot %c%c-%05u", h->desc, PACKING[pk],
                     'A' + l1, 'A' + l2, lot);
        }
        else
            snprintf(desc, sizeof desc, "%s; %s", h->desc, PACKING[below(10)]);
        double u = unif();
        flow = u < 0.80 ? "IM" : u < 0.97 ? "EX" : "TR";
        if (flow[0] == 'I') {
            snprintf(origin, 3, "%s", pick(ORIGINS, sizeof ORIGINS / sizeof *ORIGINS, NULL));
            snprintf(dest, 3, "%.2s", cc);
        } else if (flow[0] == 'E') {
            snprintf(origin, 3, "%.2s", chance(0.85) ? cc : pick(ORIGINS, sizeof ORIGINS / sizeof *ORIGINS, NULL));
            snprintf(dest, 3, "%s", pick(DESTS, sizeof DESTS / sizeof *DESTS, NULL));
        } else {
            snprintf(origin, 3, "%s", pick(ORIGINS, sizeof ORIGINS / sizeof *ORIGINS, NULL));
            snprintf(dest, 3, "%s", pick(DESTS, sizeof DESTS / sizeof *DESTS, NULL));
        }
        if (flow[0] == 'E' && strcmp(origin, dest) == 0)
            snprintf(dest, 3, "US");
        snprintf(exp_c, 3, "%s", chance(0.85) || flow[0] == 'E' ? origin : HUBS[below(10)]);
        if (flow[0] == 'E')
            snprintf(exp_c, 3, "%.2s", cc);
        if (chance(0.08))
            snprintf(transit, sizeof transit, "%s", HUBS[below(10)]);
        else if (chance(0.02)) {
            unsigned t2 = 5 + below(5), t1 = below(5);
            snprintf(transit, sizeof transit, "%s;%s", HUBS[t1], HUBS[t2]);
        }
        double m = unif();
        double net = lognormal(h->kg, 1.0);
        if (h->domain == 'W' && h->kg < 500)
            m = m * 0.6 + 0.25;   /* small wildlife consignments fly */
        mode = m < 0.58 ? "SEA" : m < 0.85 ? "AIR" : m < 0.95 ? "ROAD" : m < 0.97 ? "RAIL" : "POST";
        if (net > 30000 && mode[0] == 'A')
            mode = "SEA";
        if (mode[0] == 'P')
            net = net / 50 + 0.1;
        office = mode[0] == 'S' ? offices[below(2)] : mode[0] == 'A' ? offices[2]
                 : offices[3 + below(2)];
        double gross = net * (1.02 + 0.25 * unif());
        double usd = net * lognormal(h->usd_kg, 0.45);
        size_t ci;
        cur = pick(CURRENCIES, sizeof CURRENCIES / sizeof *CURRENCIES, &ci);
        double value = usd * CUR_PER_USD[ci];
        double qty = 0;
        if (strcmp(h->unit, "KGM") != 0)
            qty = floor(net / h->kg_unit) + 1;
        double packages = floor(net / (mode[0] == 'P' ? 5 : 25)) + 1;
        if (mode[0] == 'S' && net > 500) {
            char c10[11];
            unsigned serial = below(1000000), owner = below(15);
            snprintf(c10, sizeof c10, "%sU%06u", OWNERS[owner], serial);
            snprintf(container, sizeof container, "%s%d", c10, iso6346_check(c10));
        }

        const char *pattern = "";
        int illicit = 0;
        if (bench) {
            brow br = {hs, desc, origin, exp_c, dest, transit, importer, exporter, &flow, &mode,
                       &net, &gross, &usd, i};
            double b = unif();
            if (b < op->illicit_rate) {
                pattern = bench_illicit(&br, cc);
                illicit = 1;
            } else if (b < op->illicit_rate + op->lookalike_rate) {
                pattern = bench_lookalike(&br, cc);
            } else if (b < op->illicit_rate + op->lookalike_rate + op->noise_rate) {
                pattern = bench_noise(&br);
            }
            if (pattern[0]) {
                const hs_row *hh = find_hs(hs);
                if (hh)
                    h = hh;
                if (mode[0] == 'A' && net > 30000)
                    mode = "SEA";
                office = mode[0] == 'S' ? offices[below(2)] : mode[0] == 'A' ? offices[2]
                         : offices[3 + below(2)];
                value = usd * CUR_PER_USD[ci];
                qty = strcmp(h->unit, "KGM") != 0 ? floor(net / h->kg_unit) + 1 : 0;
                packages = floor(net / (mode[0] == 'P' ? 5 : 25)) + 1;
                container[0] = '\0';
                if (mode[0] == 'S' && net > 500) {
                    char c10[11];
                    unsigned serial = below(1000000), owner = below(15);
                    snprintf(c10, sizeof c10, "%sU%06u", OWNERS[owner], serial);
                    snprintf(container, sizeof container, "%s%d", c10, iso6346_check(c10));
                }
            }
        }

        /* planted anomalies */
        if (op->anomaly_rate > 0 && chance(op->anomaly_rate)) {
            unsigned k = below(N_ANOMALY);
            planted = ANOMALY_KINDS[k];
            switch (k) {
            case 0: value /= 25; break;
            case 1: gross = net * (4 + 4 * unif()); break;
            case 2:
                if (container[0]) container[10] = (char)('0' + (container[10] - '0' + 1 + below(8)) % 10);
                else planted = "";
                break;
            case 3:
                snprintf(hs, sizeof hs, "290343");
                snprintf(desc, sizeof desc, "Refrigerant gas R-22 in disposable cylinders, declared HFC-134a");
                value = net * 1.2 * CUR_PER_USD[ci];
                break;
            case 4:
                snprintf(origin, 3, "%s", (const char *[]){"CM", "CD", "NG", "MG"}[below(4)]);
                snprintf(transit, sizeof transit, "%s;%s", "AE", "MY");
                break;
            default:
                snprintf(importer, sizeof importer, "NEW%06llu", i % 1000000);
                break;
            }
        }

        char s_net[32], s_gross[32], s_val[32], s_qty[32] = "", s_pk[32], s_date[16];
        snprintf(s_net, sizeof s_net, "%.2f", net);
        snprintf(s_gross, sizeof s_gross, "%.2f", gross);
        snprintf(s_val, sizeof s_val, "%.2f", value);
        if (qty > 0)
            snprintf(s_qty, sizeof s_qty, "%.0f", qty);
        snprintf(s_pk, sizeof s_pk, "%.0f", packages);
        snprintf(s_date, sizeof s_date, "%s", date);
        int stray = 0, short_row = 0;
        if (op->invalid_rate > 0 && chance(op->invalid_rate)) {
            unsigned k = below(N_INVALID);
            planted = INVALID_KINDS[k];
            switch (k) {
            case 0: snprintf(hs, sizeof hs, "%.2sA%.3s", h->hs, h->hs + 3); break;
            case 1: snprintf(s_net, sizeof s_net, "-%.2f", net); break;
            case 2: snprintf(s_gross, sizeof s_gross, "%.2f", net * 0.5); break;
            case 3: snprintf(origin, 3, "XX"); break;
            case 4: cur = "XYZ"; break;
            case 5: snprintf(s_date, sizeof s_date, "%.4s-02-30", date); break;
            case 6: mode = "SHIP"; break;
            case 7: id[0] = '\0'; break;
            case 8:
                if (prev_id[0]) snprintf(id, sizeof id, "%s", prev_id);
                else planted = "";
                break;
            case 9: stray = 1; break;
            default: short_row = 1; break;
            }
        }
        int invalid = 0;
        for (size_t k = 0; k < N_INVALID; k++)
            if (strcmp(planted, INVALID_KINDS[k]) == 0)
                invalid = 1;
        if (!invalid)   /* duplicates repeat the id of an earlier valid row */
            snprintf(prev_id, sizeof prev_id, "%s", id);

        if (op->jsonl) {
            const char *keys[] = {"id", "date", "flow", "declarant", "importer", "exporter", "hs",
                                  "description", "origin", "export_country", "destination",
                                  "transit", "mode", "office", "net_kg", "gross_kg", "quantity",
                                  "unit", "value", "currency", "packages", "container", "planted"};
            const char *vals[] = {id, s_date, flow, declarant, importer, exporter, hs, desc,
                                  origin, exp_c, dest, transit, mode, office, s_net, s_gross,
                                  s_qty, h->unit, s_val, cur, s_pk, container, planted};
            int n_keys = op->label ? 23 : 22, first = 1;
            if (short_row)
                fputc('[', o);   /* not an object: rejected as a JSON Lines record */
            else
                fputc('{', o);
            for (int k = 0; k < n_keys; k++) {
                if (!vals[k][0])
                    continue;
                int num = (k >= 14 && k <= 16) || k == 18 || k == 20;
                if (!first)
                    fputc(',', o);
                first = 0;
                fprintf(o, "\"%s\":", keys[k]);
                if (k == 11) {   /* transit array */
                    fputc('[', o);
                    for (const char *t = vals[k]; *t; t += (t[2] == ';' ? 3 : 2))
                        fprintf(o, "%s\"%.2s\"", t == vals[k] ? "" : ",", t);
                    fputc(']', o);
                } else if (num) {
                    fputs(vals[k], o);
                } else {
                    fputc('"', o);
                    for (const char *t = vals[k]; *t; t++) {
                        if (*t == '"' || *t == '\\')
                            fputc('\\', o);
                        fputc(*t, o);
                    }
                    if (stray && k == 7) {
                        fputs("\n", o);   /* unterminated string: the line is not JSON */
                        break;
                    }
                    fputc('"', o);
                }
            }
            if (!stray)
                fputs(short_row ? "]\n" : "}\n", o);
            continue;
        }
        put_field(o, id);
        fputc(',', o);
        fputs(s_date, o);
        fputc(',', o);
        fputs(flow, o);
        fputc(',', o);
        fputs(declarant, o);
        fputc(',', o);
        fputs(importer, o);
        fputc(',', o);
        fputs(exporter, o);
        fputc(',', o);
        fputs(hs, o);
        fputc(',', o);
        if (stray) {
            fputs("\"", o);
            fputs(desc, o);
            fputs("\" 40\"", o);   /* unescaped quote inside a quoted field */
        } else {
            put_field(o, desc);
        }
        fprintf(o, ",%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s", origin, exp_c, dest, transit, mode,
                office, s_net, s_gross, s_qty, h->unit, s_val, cur, s_pk);
        if (!short_row) {
            fputc(',', o);
            fputs(container, o);
        }
        if (op->label) {
            fputc(',', o);
            fputs(planted, o);
        }
        if (bench) {
            fputs(illicit ? ",1," : ",0,", o);
            fputs(pattern, o);
        }
        fputc('\n', o);
        (void)put_num;
    }
    return ferror(o) ? -1 : 0;
}

int main(int argc, char **argv)
{
    opts op = {10000, 1, 0, 1, 0.002, 0.0, "NL", NULL, 0, 0, 0, -1, -1};
    er_date_parse("2026-01-05", 10, &op.start);
    static const struct option lo[] = {
        {"rows", required_argument, 0, 'n'}, {"seed", required_argument, 0, 's'},
        {"start", required_argument, 0, 1},  {"days", required_argument, 0, 2},
        {"anomaly-rate", required_argument, 0, 3}, {"invalid-rate", required_argument, 0, 4},
        {"country", required_argument, 0, 5}, {"label", no_argument, 0, 6},
        {"format", required_argument, 0, 7},
        {"illicit-rate", required_argument, 0, 8}, {"lookalike-rate", required_argument, 0, 9},
        {"noise-rate", required_argument, 0, 10},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "n:s:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'n': op.rows = strtoull(optarg, &end, 10); if (*end) goto bad; break;
        case 's': op.seed = strtoull(optarg, &end, 10); if (*end) goto bad; break;
        case 1:
            if (er_date_parse(optarg, strlen(optarg), &op.start) != ER_OK) goto bad;
            break;
        case 2: op.days = (int)strtol(optarg, &end, 10); if (*end || op.days < 1) goto bad; break;
        case 3: op.anomaly_rate = strtod(optarg, &end); if (*end || op.anomaly_rate < 0 || op.anomaly_rate > 1) goto bad; break;
        case 4: op.invalid_rate = strtod(optarg, &end); if (*end || op.invalid_rate < 0 || op.invalid_rate > 1) goto bad; break;
        case 5:
            if (strlen(optarg) != 2) goto bad;
            op.country = optarg;
            break;
        case 6: op.label = 1; break;
        case 7:
            if (strcmp(optarg, "csv") == 0) op.jsonl = 0;
            else if (strcmp(optarg, "jsonl") == 0) op.jsonl = 1;
            else goto bad;
            break;
        case 8: op.illicit_rate = strtod(optarg, &end); if (*end || op.illicit_rate < 0 || op.illicit_rate > 0.5) goto bad; break;
        case 9: op.lookalike_rate = strtod(optarg, &end); if (*end || op.lookalike_rate < 0 || op.lookalike_rate > 0.5) goto bad; break;
        case 10: op.noise_rate = strtod(optarg, &end); if (*end || op.noise_rate < 0 || op.noise_rate > 0.5) goto bad; break;
        case 'o': op.out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind < argc)
        goto bad;
    if (op.lookalike_rate < 0)   /* look-alikes and noise default to 2x and 1x the illicit rate */
        op.lookalike_rate = 2 * op.illicit_rate;
    if (op.noise_rate < 0)
        op.noise_rate = op.illicit_rate;
    if (op.jsonl && (op.illicit_rate > 0 || op.lookalike_rate > 0 || op.noise_rate > 0))
        goto bad;   /* the benchmark writes CSV */
    FILE *o = stdout;
    if (op.out && !(o = fopen(op.out, "w"))) {
        fprintf(stderr, "gen_declarations: %s: %s\n", op.out, strerror(errno));
        return 73;
    }
    static char obuf[1 << 16];
    setvbuf(o, obuf, _IOFBF, sizeof obuf);
    int rc = generate(&op, o);
    if (fclose(o) != 0 || rc != 0) {
        fprintf(stderr, "gen_declarations: write failed: %s\n", strerror(errno));
        return 74;
    }
    return 0;
bad:
    fprintf(stderr, "gen_declarations: invalid option or value near '%s' (see --help)\n",
            optind <= argc && optind > 0 ? argv[optind - 1] : "");
    return 64;
}
