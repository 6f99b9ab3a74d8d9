/*
 * test_profile_eval.c — the condition language and the evaluator on
 * declarations built in C against tests/fixtures/profiles/lang/lang.json:
 * text normalization and keyword boundaries, HS prefixes, countries, transit,
 * routes, numeric and derived values, extras, anomaly predicates ("no data"),
 * all/any/not, score cap, lanes, alert, validity window, deterministic random
 * selection, evidence strings, the explain trace and the describe text.
 */
#include "check_main.h"
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "profile/profile_int.h"

#define LANG ECORISK_SOURCE_DIR "/tests/fixtures/profiles/lang/lang.json"

static er_refdata *ref;
static er_profileset *set;
static er_eval *ev;
static er_extra extras[2];

static void setup(void)
{
    er_err err = {{0}};
    ck_assert_msg(er_refdata_load(&ref, NULL, &err) == ER_OK, "%s", err.msg);
    int32_t today;
    ck_assert_int_eq(er_date_parse("2026-11-25", 10, &today), ER_OK);
    const char *paths[] = {LANG};
    er_profile_opts o = {.ref = ref, .today = today};
    ck_assert_msg(er_profileset_load(&set, paths, 1, &o, false, &err) == ER_OK, "%s", err.msg);
    ck_assert_int_eq(er_eval_new(&ev, set, &err), ER_OK);
}

static void teardown(void)
{
    er_eval_free(ev);
    er_profileset_free(set);
    er_refdata_free(ref);
    ev = NULL;
    set = NULL;
    ref = NULL;
}

/* The declaration that fires every lang-a indicator. */
static er_decl full(void)
{
    er_decl d;
    memset(&d, 0, sizeof d);
    d.id = "D-FULL";
    ck_assert_int_eq(er_date_parse("2026-03-01", 10, &d.date), ER_OK);
    d.flow = ER_FLOW_IM;
    d.mode = ER_MODE_AIR;
    strcpy(d.hs, "050790");
    d.hs_len = 6;
    strcpy(d.currency, "USD");
    d.description = "Dried Pangolin scales";
    d.origin = ER_CC('N', 'G');
    d.export_country = ER_CC('A', 'E');
    d.destination = ER_CC('C', 'N');
    d.transit[0] = ER_CC('Q', 'A');
    d.n_transit = 1;
    d.net_kg = 100;
    d.gross_kg = 400;
    d.value = 300;
    d.value_ref = 300;
    d.present = ER_P_NET_KG | ER_P_GROSS_KG | ER_P_VALUE | ER_P_VALUE_REF;
    extras[0] = (er_extra){"permit", "none"};
    d.extra = extras;
    d.n_extra = 1;
    return d;
}

static er_anomalies anomalies(double p_low)
{
    er_anomalies an;
    memset(&an, 0, sizeof an);
    an.have_baseline = true;
    for (int i = 0; i < ER_FEAT_COUNT; i++)
        an.f[i].p = 1;
    an.f[ER_FEAT_UNIT_VALUE_LOW] = (er_feature_value){
        .computable = true, .level = ER_LEVEL_HS6, .group = "050790", .observed = 0.5,
        .expected_lo = 1, .expected_hi = 3, .p = p_low};
    an.n_computable = 1;
    return an;
}

static const er_profile_result *run(const er_decl *d, const er_anomalies *an)
{
    const er_profile_result *r;
    ck_assert_uint_eq(er_eval_run(ev, d, an, &r), 3);
    return r;
}

static char *evidence(size_t p, size_t ind, const er_decl *d, const er_anomalies *an)
{
    static char buf[512];
    er_eval_evidence(set, p, ind, d, an, buf, sizeof buf);
    return buf;
}

START_TEST(normalize)
{
    char out[128];
    struct {
        const char *in, *out;
    } cases[] = {
        {"Pangolin SCALES", "pangolin scales"},
        {"  Écailles  de   PANGOLIN!! ", "ecailles de pangolin"},
        {"be\xcc\x82" "che-de-mer", "beche de mer"},          /* NFD: combining circumflex */
        {"B\xc3\x8a" "CHE DE MER", "beche de mer"},           /* NFC capital E circumflex */
        {"R-22 / HCFC-22", "r 22 hcfc 22"},
        {"Stra\xc3\x9f" "e \xc5\x92uvre \xc5\x81\xc3\xb3" "d\xc5\xba", "strasse oeuvre lodz"},
        {"\xe7\xa9\xbf\xe5\xb1\xb1\xe7\x94\xb2 scales", "\xe7\xa9\xbf\xe5\xb1\xb1\xe7\x94\xb2 scales"},
        {"bad\xff" "byte", "bad byte"},
        {"\xd0\xa7\xd0\x95\xd0\xa8\xd0\xa3\xd0\xaf \xd0\x9f\xd0\x90\xd0\x9d\xd0\x93\xd0\x9e\xd0\x9b\xd0\x98\xd0\x9d\xd0\x90", "\xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f \xd0\xbf\xd0\xb0\xd0\xbd\xd0\xb3\xd0\xbe\xd0\xbb\xd0\xb8\xd0\xbd\xd0\xb0"},   /* ЧЕШУЯ ПАНГОЛИНА → чешуя панголина */
        {"V\xe1\xba\xa2Y T\xc3\x8a T\xc3\x8a", "vay te te"},   /* VẢY TÊ TÊ: marks stripped */
        {"\xce\x9b\xce\x95\xce\xa0\xce\x8a\xce\x94\xce\x95\xce\xa3", "\xce\xbb\xce\xb5\xcf\x80\xce\xb9\xce\xb4\xce\xb5\xcf\x83"}, /* ΛΕΠΊΔΕΣ → λεπιδεσ */
        {"\xef\xbc\xb3\xef\xbc\xa3\xef\xbc\xa1\xef\xbc\xac\xef\xbc\xa5\xef\xbc\xb3\xe2\x80\x94ok", "scales ok"}, /* full-width letters, em dash */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = kw_normalize(cases[i].in, strlen(cases[i].in), out, sizeof out);
        out[n] = '\0';
        ck_assert_str_eq(out, cases[i].out);
    }
    /* truncation respects the cap */
    ck_assert_uint_eq(kw_normalize("abcdef", 6, out, 3), 3);
}
END_TEST

START_TEST(full_declaration_fires_everything)
{
    er_decl d = full();
    er_anomalies an = anomalies(0.001);
    const er_profile_result *r = run(&d, &an);
    ck_assert(r[0].in_scope);
    ck_assert_uint_eq(r[0].profile, 0);
    ck_assert_uint_eq(r[0].fired, 0x7EF);   /* every indicator but "pair" (bit 4) */
    ck_assert_double_eq(r[0].score, 100);   /* 140, capped */
    ck_assert_int_eq(r[0].lane, ER_LANE_RED);
    ck_assert(r[0].alert);
    ck_assert(!r[0].random);
    ck_assert(!r[1].in_scope);
    ck_assert(!r[2].in_scope);
}
END_TEST

START_TEST(evidence_strings)
{
    er_decl d = full();
    er_anomalies an = anomalies(0.001);
    ck_assert_str_eq(evidence(0, 0, &d, &an),
                     "description contains \"pangolin\" ([scales,pangolin*,glass eel*,b\xc3\xaa" "che de mer,"
                     "\xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f \xd0\xbf\xd0\xb0\xd0\xbd\xd0\xb3\xd0\xbe\xd0\xbb\xd0\xb8\xd0\xbd\xd0\xb0,"
                     "v\xe1\xba\xa3y t\xc3\xaa t\xc3\xaa])");
    ck_assert_str_eq(evidence(0, 1, &d, &an), "origin NG in list range");
    ck_assert_str_eq(evidence(0, 2, &d, &an), "transit QA in [AE,QA]");
    ck_assert_str_eq(evidence(0, 3, &d, &an), "route NG>CN matches from [NG,CM] to [CN,VN]");
    ck_assert_str_eq(evidence(0, 4, &d, &an), "route AE>CN not matches pairs [FR>HK]");
    ck_assert_str_eq(evidence(0, 5, &d, &an), "unit_value 3 < 5");
    ck_assert_str_eq(evidence(0, 6, &d, &an), "gross_net_ratio 4 in [3, 10]");
    ck_assert_str_eq(evidence(0, 7, &d, &an), "extra.permit \"none\" in \"none\"");
    ck_assert_str_eq(evidence(0, 8, &d, &an), "mode \"AIR\" in [AIR,POST]");
    ck_assert_str_eq(evidence(0, 9, &d, &an),
                     "unit_value_low p=0.001 < 0.01 (observed 0.5, expected 1..3, hs6 050790)");
    ck_assert_str_eq(evidence(0, 10, &d, &an), "importer absent");
    /* truncation is safe */
    char small[8];
    er_eval_evidence(set, 0, 1, &d, &an, small, sizeof small);
    ck_assert_str_eq(small, "origin ");
    /* out of range arguments */
    ck_assert_uint_eq(er_eval_evidence(set, 9, 0, &d, &an, small, sizeof small), 0);
    ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(scope_and_window)
{
    er_decl d = full();
    d.flow = ER_FLOW_EX;
    const er_profile_result *r = run(&d, NULL);
    ck_assert(!r[0].in_scope);
    ck_assert_double_eq(r[0].score, 0);
    ck_assert_uint_eq(r[0].fired, 0);
    ck_assert_int_eq(r[0].lane, ER_LANE_GREEN);
    ck_assert(!r[0].alert);
    d = full();
    ck_assert_int_eq(er_date_parse("2028-01-01", 10, &d.date), ER_OK);   /* after valid_until */
    r = run(&d, NULL);
    ck_assert(!r[0].in_scope);
    d = full();
    strcpy(d.hs, "050690");   /* 0506 is not in scope, 0507 is */
    r = run(&d, NULL);
    ck_assert(!r[0].in_scope);
    strcpy(d.hs, "0106901000");
    d.hs_len = 10;
    r = run(&d, NULL);
    ck_assert(r[0].in_scope);
}
END_TEST

START_TEST(keywords_boundaries_and_accents)
{
    struct {
        const char *desc;
        bool fires;
    } cases[] = {
        {"SCALES", true},          {"scales.", true},        {"fish scales, dried", true},
        {"descales", false},       {"scalesman", false},     {"Pangolins", true},
        {"pangolin", true},        {"Glass-eels (Anguilla)", true}, {"glass eel", true},
        {"glasseel", false},       {"B\xc3\xaa" "che-de-mer", true}, {"BECHE DE MER", true},
        {"be\xcc\x82" "che de mer", true}, {"beche de", false}, {"\xc3\xa9" "cailles", false},
        {"\xd0\xa7\xd0\x95\xd0\xa8\xd0\xa3\xd0\xaf \xd0\x9f\xd0\x90\xd0\x9d\xd0\x93\xd0\x9e\xd0\x9b\xd0\x98\xd0\x9d\xd0\x90", true},   /* ЧЕШУЯ ПАНГОЛИНА; the keyword is in lower case */
        {"\xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f \xd0\xbf\xd0\xb0\xd0\xbd\xd0\xb3\xd0\xbe\xd0\xbb\xd0\xb8\xd0\xbd\xd0\xb0", true},
        {"V\xe1\xba\xa2Y T\xc3\x8a T\xc3\x8a", true},      /* VẢY TÊ TÊ; the keyword is "vảy tê tê" */
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        er_decl d = full();
        d.description = cases[i].desc;
        const er_profile_result *r = run(&d, NULL);
        ck_assert_msg(((r[0].fired & 1u) != 0) == cases[i].fires, "\"%s\"", cases[i].desc);
    }
    er_decl d = full();
    d.description = NULL;
    ck_assert_uint_eq(run(&d, NULL)[0].fired & 1u, 0);
}
END_TEST

/* The evaluation trie holds every pack's keywords and reports a keyword set
 * when one of its keywords starts at a boundary and, unless it is a prefix,
 * ends at one: overlapping keywords of two packs, a prefix keyword, a
 * keyword inside another, and a Cyrillic keyword (any non-ASCII byte is a
 * boundary); and the same on raw ASCII text, which is not normalized first. */
START_TEST(keyword_trie_across_packs)
{
    kwauto packs[2];
    memset(packs, 0, sizeof packs);
    struct { size_t pack; const char *kw; bool prefix; uint32_t set; } kws[] = {
        {0, "glass", false, 0}, {0, "glass eel", true, 1}, {0, "scales", false, 0},
        {1, "scale", false, 2}, {1, "eel", false, 3}, {1, "\xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f", false, 4},
    };
    for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
        ck_assert_int_eq(kw_add(&packs[kws[i].pack], kws[i].kw, strlen(kws[i].kw), kws[i].prefix, kws[i].set), ER_OK);
    kwtrie t;
    ck_assert_int_eq(kwt_build(&t, packs, 2), ER_OK);
    struct { const char *text; uint64_t mask; } cases[] = {
        {"glass eels", 1u << 0 | 1u << 1}, {"glass eel", 1u << 0 | 1u << 1 | 1u << 3},
        {"fish scales", 1u << 0},          {"scale scales", 1u << 0 | 1u << 2},
        {"descale", 0},                    {"glasseel", 0},
        {"an eel", 1u << 3},               {"\xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f\xd0\xbc\xd0\xb8", 1u << 4},
        {"x\xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f", 0}, {"a \xd1\x87\xd0\xb5\xd1\x88\xd1\x83\xd1\x8f", 1u << 4},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t m = 0;
        bool ascii = kwt_scan(&t, cases[i].text, strlen(cases[i].text), &m);
        ck_assert_msg(m == cases[i].mask, "\"%s\": %llx", cases[i].text, (unsigned long long)m);
        ck_assert(ascii == (strchr(cases[i].text, '\xd1') == NULL));
    }
    /* raw ASCII text: case and separator runs fold as normalization would */
    struct { const char *text; uint64_t mask; } raw[] = {
        {"GLASS-EELS", 1u << 0 | 1u << 1}, {"Glass  ,eel", 1u << 0 | 1u << 1 | 1u << 3},
        {"Fish SCALES!!", 1u << 0},        {"  (eel)", 1u << 3},
        {"DeScale", 0},                    {"glass_eel", 1u << 0 | 1u << 1 | 1u << 3},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        uint64_t m = 0;
        ck_assert(kwt_scan(&t, raw[i].text, strlen(raw[i].text), &m));
        ck_assert_msg(m == raw[i].mask, "\"%s\": %llx", raw[i].text, (unsigned long long)m);
    }
    kwt_free(&t);
    kw_free(&packs[0]);
    kw_free(&packs[1]);
}
END_TEST

/* The class-triple filter skips only walks that could find nothing: the scan
 * with it and without it (t.tri = NULL) report the same sets on 20,000 random
 * texts over the keywords' letters, separators, upper case and non-ASCII
 * bytes, with keywords of one to three classes, prefixes, and separators
 * inside keywords. */
START_TEST(keyword_trie_filter_exact)
{
    kwauto pack;
    memset(&pack, 0, sizeof pack);
    struct { const char *kw; bool prefix; } kws[] = {
        {"a", false}, {"ab", true}, {"abc", false}, {"b c", false}, {"ca b", true},
        {"bad", false}, {"cab", true}, {"a b c d", false}, {"dd", false}, {"c1", false},
    };
    for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
        ck_assert_int_eq(kw_add(&pack, kws[i].kw, strlen(kws[i].kw), kws[i].prefix, (uint32_t)i), ER_OK);
    kwtrie t;
    ck_assert_int_eq(kwt_build(&t, &pack, 1), ER_OK);
    ck_assert_ptr_nonnull(t.tri);
    uint64_t *tri = t.tri;
    static const char alphabet[] = "abcdABCD1  -,.\xc3\xa9x";
    uint64_t seed = 42;
    char text[24];
    for (int n = 0; n < 20000; n++) {
        size_t len = (size_t)(n % 23);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            text[i] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        text[len] = 0;
        uint64_t with = 0, without = 0;
        t.tri = tri;
        bool a1 = kwt_scan(&t, text, len, &with);
        uint64_t with_str = 0;
        size_t len_str = 0;
        ck_assert(kwt_scan_str(&t, text, &with_str, &len_str) == a1 && with_str == with && len_str == len);
        t.tri = NULL;
        bool a2 = kwt_scan(&t, text, len, &without);
        ck_assert_msg(with == without && a1 == a2, "\"%s\": %llx != %llx", text, (unsigned long long)with,
                      (unsigned long long)without);
    }
    t.tri = tri;
    kwt_free(&t);
    kw_free(&pack);
}
END_TEST

/* The scan against brute force: on 30,000 random texts of 0 to 150 bytes (up to three 64-byte blocks)
 * (letters of both cases, digits, runs of separators, accented and Cyrillic
 * letters), the sets the evaluation reports (the raw text when it is ASCII,
 * else its normalized form) are those found by testing every keyword at every
 * boundary of the normalized text: after its start or a byte that is not an
 * ASCII letter or digit, and, unless a prefix, followed by one. */
START_TEST(keyword_scan_brute_force)
{
    kwauto pack;
    memset(&pack, 0, sizeof pack);
    struct { const char *kw; bool prefix; } kws[] = {
        {"ab", false}, {"abc", true}, {"b a", false}, {"ca", true}, {"a1", false}, {"c", false},
        {"bab cab", false}, {"e", true}, {"\xd1\x87" "a", false}, {"1 2", true},
    };
    size_t nk = sizeof kws / sizeof kws[0];
    for (size_t i = 0; i < nk; i++)
        ck_assert_int_eq(kw_add(&pack, kws[i].kw, strlen(kws[i].kw), kws[i].prefix, (uint32_t)i), ER_OK);
    kwtrie t;
    ck_assert_int_eq(kwt_build(&t, &pack, 1), ER_OK);
    static const char *pieces[] = {"a", "b", "c", "A", "B", "C", "1", "2", " ", " ", "-", ", ", "  ",
                                   "\xc3\xa9", "\xd1\x87", "\xd0\xa7", "x"};
    uint64_t seed = 99;
    char text[160], norm[400];
    for (int n = 0; n < 30000; n++) {
        size_t len = 0, want = (size_t)(n % 151);
        while (len < want) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *pc = pieces[(seed >> 33) % (sizeof pieces / sizeof *pieces)];
            size_t pl = strlen(pc);
            if (len + pl > want)
                break;
            memcpy(text + len, pc, pl);
            len += pl;
        }
        text[len] = 0;
        size_t nl = kw_normalize(text, len, norm, sizeof norm - 1);
        norm[nl] = 0;
        uint64_t got = 0, brute = 0, got_str = 0;
        size_t len_str = 0;
        bool ascii = kwt_scan(&t, text, len, &got);
        /* the NUL-terminated scan reads the text exactly alike */
        ck_assert(kwt_scan_str(&t, text, &got_str, &len_str) == ascii);
        ck_assert_uint_eq(len_str, len);
        ck_assert_msg(got_str == got, "\"%s\": %llx != %llx", text, (unsigned long long)got_str,
                      (unsigned long long)got);
        if (!ascii) {
            got = 0;
            kwt_scan(&t, norm, nl, &got);
        }
        for (size_t k = 0; k < nk; k++) {
            size_t kl = strlen(kws[k].kw);
            for (size_t p = 0; p + kl <= nl; p++) {
                if (p > 0 && isalnum((unsigned char)norm[p - 1]))
                    continue;
                if (memcmp(norm + p, kws[k].kw, kl) != 0)
                    continue;
                if (!kws[k].prefix && p + kl < nl && isalnum((unsigned char)norm[p + kl]))
                    continue;
                brute |= (uint64_t)1 << k;
            }
        }
        ck_assert_msg(got == brute, "\"%s\" (normalized \"%s\"): %llx, brute force %llx", text, norm,
                      (unsigned long long)got, (unsigned long long)brute);
    }
    kwt_free(&t);
    kw_free(&pack);
}
END_TEST

/* Gates skip only profiles whose scope is false: with the shipped packs, every
 * profile is gated (by one HS set, or by HS and keyword sets), and on 2,400
 * declarations (HS codes inside and outside the packs' sets, descriptions
 * with and without their keywords, every flow, several origins) the results
 * and the scope answer are those of evaluating every profile. */
START_TEST(gates_change_nothing_on_shipped_packs)
{
    er_err err = {{0}};
    int32_t today;
    ck_assert_int_eq(er_date_parse("2026-11-25", 10, &today), ER_OK);
    const char *paths[] = {ECORISK_SOURCE_DIR "/profiles/wildlife.json", ECORISK_SOURCE_DIR "/profiles/ods.json",
                           ECORISK_SOURCE_DIR "/profiles/waste.json"};
    er_profile_opts o = {.ref = ref, .today = today};
    er_profileset *ps = NULL;
    ck_assert_msg(er_profileset_load(&ps, paths, 3, &o, false, &err) == ER_OK, "%s", err.msg);
    ck_assert_uint_eq(ps->n_ungated, 0);
    ck_assert_uint_ge(ps->n_gated, 4);
    ck_assert_ptr_nonnull(ps->gate_by_hsset);
    er_eval *e = NULL;
    ck_assert_int_eq(er_eval_new(&e, ps, &err), ER_OK);
    uint32_t *all = malloc(ps->n_prof * sizeof *all);
    ck_assert_ptr_nonnull(all);
    memcpy(all, ps->gated, ps->n_gated * sizeof *all);
    static const char *hs[] = {"050690", "050790", "960190", "440349", "030192", "030572", "410320", "290341",
                               "382499", "841510", "391510", "391590", "400400", "847130", "720429", "010121",
                               "950300", "870323", "999999", "382490"};
    static const char *desc[] = {"Dried pangolin scales", "Carved IVORY figures", "R-22 refrigerant in disposable cylinders",
                                 "Mixed plastic bales", "Plastic toys", "", "Fish scales, dried", "used tyres (baled)",
                                 "Cathode-ray tubes", "cylinders", "Elfenbein \xc3\xa9", "HFC-134a"};
    static const uint16_t cc[] = {ER_CC('N', 'G'), ER_CC('C', 'N'), ER_CC('D', 'E'), 0, ER_CC('V', 'N')};
    static const uint8_t flows[] = {ER_FLOW_IM, ER_FLOW_EX, ER_FLOW_TR, ER_FLOW_NONE};
    size_t checked = 0, in_scope = 0;
    er_profile_result *want = malloc(ps->n_prof * sizeof *want);
    ck_assert_ptr_nonnull(want);
    for (size_t h = 0; h < sizeof hs / sizeof *hs; h++)
        for (size_t k = 0; k < sizeof desc / sizeof *desc; k++)
            for (size_t c = 0; c < sizeof cc / sizeof *cc; c++)
                for (size_t f = 0; f < sizeof flows / sizeof *flows; f++) {
                    if ((h + k + c + f) % 2)
                        continue;
                    er_decl d = full();
                    snprintf(d.hs, sizeof d.hs, "%s", hs[h]);
                    d.hs_len = (uint8_t)strlen(hs[h]);
                    d.description = desc[k];
                    d.origin = cc[c];
                    d.flow = flows[f];
                    /* every profile visited: the gated ones as if ungated */
                    uint32_t *ungated = ps->ungated;
                    size_t n_ungated = ps->n_ungated, n_gated = ps->n_gated;
                    ps->ungated = all;
                    ps->n_ungated = n_gated;
                    ps->n_gated = 0;
                    const er_profile_result *r;
                    size_t n = er_eval_run(e, &d, NULL, &r);
                    memcpy(want, r, n * sizeof *r);
                    bool any_want = er_eval_any_scope(e, &d);
                    ps->ungated = ungated;
                    ps->n_ungated = n_ungated;
                    ps->n_gated = n_gated;
                    ck_assert_uint_eq(er_eval_run(e, &d, NULL, &r), n);
                    ck_assert_msg(memcmp(want, r, n * sizeof *r) == 0, "hs %s, '%s': results differ", hs[h], desc[k]);
                    ck_assert(er_eval_any_scope(e, &d) == any_want);
                    /* the gates one by one, as past 64 gated profiles */
                    uint64_t *by_set = ps->gate_by_hsset;
                    ps->gate_by_hsset = NULL;
                    ck_assert_uint_eq(er_eval_run(e, &d, NULL, &r), n);
                    ck_assert_msg(memcmp(want, r, n * sizeof *r) == 0, "hs %s, '%s': one by one", hs[h], desc[k]);
                    ck_assert(er_eval_any_scope(e, &d) == any_want);
                    ps->gate_by_hsset = by_set;
                    for (size_t i = 0; i < n; i++)
                        in_scope += r[i].in_scope;
                    checked++;
                }
    ck_assert_uint_eq(checked, 2400);
    ck_assert_uint_gt(in_scope, 1000);
    free(want);
    free(all);
    er_eval_free(e);
    er_profileset_free(ps);
}
END_TEST

/* The evaluator's memo of HS look-ups (eval_hs) gives what a fresh trie walk
 * gives, for codes of every length that share slots and come back in any
 * order. */
START_TEST(hs_memo_matches_the_trie)
{
    er_err err = {{0}};
    const char *paths[] = {ECORISK_SOURCE_DIR "/profiles/wildlife.json", ECORISK_SOURCE_DIR "/profiles/ods.json",
                           ECORISK_SOURCE_DIR "/profiles/waste.json"};
    er_profile_opts o = {.ref = ref};
    er_profileset *ps = NULL;
    ck_assert_msg(er_profileset_load(&ps, paths, 3, &o, false, &err) == ER_OK, "%s", err.msg);
    er_eval *e = NULL;
    ck_assert_int_eq(er_eval_new(&e, ps, &err), ER_OK);
    static const char *stem[] = {"0507", "9601", "2903", "3824", "8415", "3915", "4004", "8471", "0301", "2811", ""};
    uint64_t want[8], r = 0x853C49E6748FEA9BULL;
    ck_assert_uint_le(ps->hs_words, 8);
    size_t hits = 0;
    for (int i = 0; i < 20000; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        er_decl d = full();
        const char *st = stem[r % (sizeof stem / sizeof *stem)];
        size_t len = 2 + (size_t)(r >> 8) % 9;   /* 2 to 10 digits */
        snprintf(d.hs, sizeof d.hs, "%s%010llu", st, (unsigned long long)(r >> 20) % (i % 2 ? 100 : 100000));
        d.hs[len] = '\0';
        d.hs_len = (uint8_t)len;
        er_eval_any_scope(e, &d);
        hs_lookup(ps, d.hs, want);
        ck_assert_msg(memcmp(e->hs_mask, want, ps->hs_words * sizeof *want) == 0, "hs %s", d.hs);
        for (uint32_t w = 0; w < ps->hs_words; w++)
            hits += want[w] != 0;
    }
    ck_assert_uint_gt(hits, 1000);   /* codes in the packs' sets, not only outside them */
    er_eval_free(e);
    er_profileset_free(ps);
}
END_TEST

START_TEST(anomaly_no_data)
{
    er_decl d = full();
    const er_profile_result *r = run(&d, NULL);   /* no anomalies at all */
    ck_assert_uint_eq((r[0].fired >> 9) & 1u, 0);
    ck_assert_str_eq(evidence(0, 9, &d, NULL), "unit_value_low: no data (no baseline)");
    er_anomalies an = anomalies(0.001);
    an.have_baseline = false;
    r = run(&d, &an);
    ck_assert_uint_eq((r[0].fired >> 9) & 1u, 0);
    an = anomalies(0.001);
    an.f[ER_FEAT_UNIT_VALUE_LOW].computable = false;
    r = run(&d, &an);
    ck_assert_uint_eq((r[0].fired >> 9) & 1u, 0);
    ck_assert_str_eq(evidence(0, 9, &d, &an), "unit_value_low: no data (not computable)");
    an = anomalies(0.001);   /* a unit error (docs/scoring.md 3.1) is shown but does not fire */
    an.f[ER_FEAT_UNIT_VALUE_LOW].unit_error = true;
    r = run(&d, &an);
    ck_assert_uint_eq((r[0].fired >> 9) & 1u, 0);
    ck_assert_str_eq(evidence(0, 9, &d, &an), "unit_value_low p=0.001 < 0.01 (observed 0.5, expected 1..3, hs6 050790; "
                                              "over 100x below the median: a unit error, not counted)");
    an = anomalies(0.01);   /* p must be strictly below */
    r = run(&d, &an);
    ck_assert_uint_eq((r[0].fired >> 9) & 1u, 0);
    ck_assert_str_eq(evidence(0, 9, &d, &an),
                     "unit_value_low p=0.01 >= 0.01 (observed 0.5, expected 1..3, hs6 050790)");
}
END_TEST

START_TEST(numbers_routes_and_absent_values)
{
    er_decl d = full();
    d.present &= ~(uint32_t)ER_P_VALUE_REF;   /* unit value not computable */
    const er_profile_result *r = run(&d, NULL);
    ck_assert_uint_eq((r[0].fired >> 5) & 1u, 0);
    ck_assert_str_eq(evidence(0, 5, &d, NULL), "unit_value not available");
    d = full();
    d.gross_kg = 1000;   /* ratio 10: between is inclusive */
    ck_assert_uint_eq((run(&d, NULL)[0].fired >> 6) & 1u, 1);
    d.gross_kg = 1001;
    ck_assert_uint_eq((run(&d, NULL)[0].fired >> 6) & 1u, 0);
    d = full();
    d.net_kg = 0;   /* division by zero: not computable */
    r = run(&d, NULL);
    ck_assert_uint_eq((r[0].fired >> 5) & 3u, 0);
    /* routes: origin not in from-set, but export country is ("either") */
    d = full();
    d.origin = ER_CC('F', 'R');
    d.export_country = ER_CC('C', 'M');
    d.destination = ER_CC('V', 'N');
    r = run(&d, NULL);
    ck_assert_uint_eq((r[0].fired >> 3) & 1u, 1);
    ck_assert_str_eq(evidence(0, 3, &d, NULL), "route CM>VN matches from [NG,CM] to [CN,VN]");
    /* explicit pair via export country only */
    d.export_country = ER_CC('F', 'R');
    d.destination = ER_CC('H', 'K');
    r = run(&d, NULL);
    ck_assert_uint_eq((r[0].fired >> 3) & 3u, 2);
    d.export_country = 0;
    ck_assert_uint_eq((run(&d, NULL)[0].fired >> 4) & 1u, 0);
    /* transit overlap anywhere in the list; absent transit never matches */
    d = full();
    d.transit[0] = ER_CC('D', 'E');
    d.transit[1] = ER_CC('A', 'E');
    d.n_transit = 2;
    ck_assert_uint_eq((run(&d, NULL)[0].fired >> 2) & 1u, 1);
    ck_assert_str_eq(evidence(0, 2, &d, NULL), "transit AE in [AE,QA]");
    d.n_transit = 0;
    ck_assert_uint_eq((run(&d, NULL)[0].fired >> 2) & 1u, 0);
    /* extra missing, importer present, mode SEA */
    d = full();
    d.n_extra = 0;
    d.importer = "IMP-9";
    d.mode = ER_MODE_SEA;
    r = run(&d, NULL);
    ck_assert_uint_eq(r[0].fired & ((1u << 7) | (1u << 8) | (1u << 10)), 0);
}
END_TEST

START_TEST(score_lanes_and_alert)
{
    er_decl d = full();
    d.description = "bones";   /* -kw 30 */
    d.transit[0] = ER_CC('D', 'E');   /* -transit 10 */
    d.gross_kg = 100;   /* -gn 10 */
    d.n_extra = 0;   /* -extra 5 */
    d.importer = "X";   /* -noimp 5 */
    const er_profile_result *r = run(&d, NULL);   /* origin 25 + route 20 + uv 10 + mode 5 = 60 */
    ck_assert_uint_eq(r[0].fired, 0x12A);
    ck_assert_double_eq(r[0].score, 60);
    ck_assert_int_eq(r[0].lane, ER_LANE_YELLOW);
    ck_assert(r[0].alert);
    d.mode = ER_MODE_SEA;   /* 55 */
    d.value_ref = 1000;   /* uv 10: -10 → 45 */
    r = run(&d, NULL);
    ck_assert_double_eq(r[0].score, 45);
    ck_assert_int_eq(r[0].lane, ER_LANE_BLUE);
    ck_assert(!r[0].alert);
    d.destination = ER_CC('F', 'R');   /* -route 20 → 25 */
    r = run(&d, NULL);
    ck_assert_double_eq(r[0].score, 25);
    ck_assert_int_eq(r[0].lane, ER_LANE_GREEN);
    ck_assert(r[0].in_scope);
}
END_TEST

START_TEST(negation_evidence_and_second_keyword_profile)
{
    er_decl d = full();
    strcpy(d.hs, "990000");
    d.packages = 1;
    d.present |= ER_P_PACKAGES;   /* 100 kg per package: not(<= 50) fires */
    d.id = "R-TEST-1";
    const er_profile_result *r = run(&d, NULL);
    ck_assert(r[1].in_scope);
    ck_assert_uint_eq(r[1].fired, 1);
    ck_assert_double_eq(r[1].score, 60);
    ck_assert_int_eq(r[1].lane, ER_LANE_RED);
    ck_assert(r[1].alert);
    ck_assert_str_eq(evidence(1, 0, &d, NULL), "kg_per_package 100 > 50");
    /* keyword list on an extra column, exact trader list, weight-0 indicator */
    d = full();
    strcpy(d.hs, "010690");
    extras[1] = (er_extra){"remarks", "Refrigerant r-22 in cylinders"};
    d.extra = extras;
    d.n_extra = 2;
    d.importer = "IMP-2";
    r = run(&d, NULL);
    ck_assert(r[2].in_scope);
    ck_assert_uint_eq(r[2].fired, 3);
    ck_assert_double_eq(r[2].score, 100);
    ck_assert_int_eq(r[2].lane, ER_LANE_RED);
    ck_assert_str_eq(evidence(2, 1, &d, NULL), "hs \"010690\" in [010690]");
    extras[1].value = "R22";   /* not the keyword "R-22" (r 22) */
    ck_assert(!run(&d, NULL)[2].in_scope);
}
END_TEST

START_TEST(random_selection_is_deterministic)
{
    er_decl d = full();
    strcpy(d.hs, "990000");
    d.net_kg = 10;
    d.packages = 1;
    d.present |= ER_P_PACKAGES;
    size_t picked = 0;
    unsigned char first[1000];
    char id[32];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 1000; i++) {
            snprintf(id, sizeof id, "R%d", i);
            d.id = id;
            const er_profile_result *r = run(&d, NULL);
            ck_assert(r[1].in_scope);
            ck_assert_double_eq(r[1].score, 0);
            if (pass == 0) {
                first[i] = r[1].random;
                picked += r[1].random;
            } else {
                ck_assert_int_eq(first[i], r[1].random);
            }
            if (r[1].random) {
                ck_assert(r[1].alert);
                ck_assert_int_eq(r[1].lane, ER_LANE_YELLOW);
            } else {
                ck_assert(!r[1].alert);
                ck_assert_int_eq(r[1].lane, ER_LANE_GREEN);
            }
        }
    ck_assert_uint_ge(picked, 200);   /* rate 0.25 over 1000 ids */
    ck_assert_uint_le(picked, 300);
}
END_TEST

START_TEST(explain_trace)
{
    er_decl d = full();
    char *txt = er_eval_explain(set, &d, NULL);
    ck_assert_ptr_nonnull(txt);
    json_object *j = json_tokener_parse(txt);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "declaration")), "D-FULL");
    json_object *p0 = json_object_array_get_idx(json_object_object_get(j, "profiles"), 0);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(p0, "id")), "lang-a");
    ck_assert(json_object_get_boolean(json_object_object_get(p0, "in_scope")));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(p0, "lane")), "red");
    ck_assert_double_eq(json_object_get_double(json_object_object_get(p0, "score")), 100);
    json_object *inds = json_object_object_get(p0, "indicators");
    ck_assert_uint_eq(json_object_array_length(inds), 11);
    json_object *anom = json_object_object_get(json_object_array_get_idx(inds, 9), "when");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(anom, "op")), "anomaly");
    ck_assert(json_object_get_boolean(json_object_object_get(anom, "no_data")));
    ck_assert(!json_object_get_boolean(json_object_object_get(anom, "result")));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(anom, "path")),
                     "profiles[0].indicators[9].when");
    json_object *scope = json_object_object_get(p0, "scope");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(scope, "op")), "all");
    json_object *hs = json_object_array_get_idx(json_object_object_get(scope, "children"), 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(hs, "evidence")), "hs 050790 in [0507,0106]");
    /* determinism */
    char *again = er_eval_explain(set, &d, NULL);
    ck_assert_str_eq(txt, again);
    free(again);
    json_object_put(j);
    free(txt);
}
END_TEST

START_TEST(describe_and_names)
{
    char *t = er_profile_describe(set, 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strstr(t, "lang-a (version 3) — Language test\n"));
    ck_assert_ptr_nonnull(strstr(t, "    origin in list range: CM GA NG\n"));
    ck_assert_ptr_nonnull(strstr(t, "  range: 3 entries, "));
    ck_assert_ptr_nonnull(strstr(t, "(source: test fixture; date: 2026-11-25)"));
    free(t);
    ck_assert_ptr_null(er_profile_describe(set, 3));
    ck_assert_str_eq(er_domain_str(ER_DOMAIN_ODS), "ods");
    ck_assert_str_eq(er_lane_str(ER_LANE_BLUE), "blue");
    ck_assert_str_eq(er_cen_group(ER_DOMAIN_WILDLIFE, "050790"), "fauna and flora");
    ck_assert_str_eq(er_cen_group(ER_DOMAIN_ODS, "290371"), "ODS");
    ck_assert_str_eq(er_cen_group(ER_DOMAIN_ODS, "290345"), "HFC");
    ck_assert_str_eq(er_cen_group(ER_DOMAIN_WASTE, "854911"), "hazardous waste");
    ck_assert_str_eq(er_cen_group(ER_DOMAIN_WASTE, "391510"), "waste");
    const er_profile_info *in = er_profileset_info(set, 0);
    ck_assert(in->indicators[9].is_anomaly);
    ck_assert(!in->indicators[0].is_anomaly);
    ck_assert_double_eq(er_profileset_info(set, 1)->random_rate, 0.25);
}
END_TEST

/* er_eval_any_scope says exactly whether er_eval_run finds the declaration in
 * some profile's scope (in or out of its window), and is conservative for a
 * scope that tests an anomaly. */
START_TEST(any_scope_matches_the_full_run)
{
    static const char *hs[] = {"050790", "030192", "440349", "290343", "847130", "010121", "999999", "0507", ""};
    static const char *desc[] = {"Dried Pangolin scales", "Toys", "live eels", "", "ivory carvings"};
    static const uint16_t cc[] = {ER_CC('N', 'G'), ER_CC('F', 'R'), ER_CC('C', 'N'), 0};
    int held = 0, not_held = 0;
    for (size_t h = 0; h < sizeof hs / sizeof *hs; h++)
        for (size_t k = 0; k < sizeof desc / sizeof *desc; k++)
            for (size_t o = 0; o < sizeof cc / sizeof *cc; o++)
                for (int year = 0; year < 2; year++) {
                    er_decl d = full();
                    snprintf(d.hs, sizeof d.hs, "%s", hs[h]);
                    d.hs_len = (uint8_t)strlen(hs[h]);
                    d.description = desc[k];
                    d.origin = cc[o];
                    if (year)
                        ck_assert_int_eq(er_date_parse("2019-03-01", 10, &d.date), ER_OK);
                    bool any = er_eval_any_scope(ev, &d);
                    const er_profile_result *r;
                    size_t n = er_eval_run(ev, &d, NULL, &r);
                    bool want = false;
                    for (size_t i = 0; i < n; i++)
                        want |= r[i].in_scope || r[i].out_of_window;
                    ck_assert_msg(any == want, "hs %s, '%s': any_scope %d, run %d", hs[h], desc[k], any, want);
                    held += want;
                    not_held += !want;
                }
    ck_assert_int_gt(held, 0);
    ck_assert_int_gt(not_held, 0);
    /* er_eval_scopes over a chunk, then er_eval_run on each: the same answers and
     * the same results as without the kept keyword and HS work */
    er_decl chunk[sizeof hs / sizeof *hs];
    bool need[sizeof hs / sizeof *hs];
    er_extra remarks[sizeof hs / sizeof *hs];
    static const char *rm[] = {"carved ivory", "toys", "R-22 cylinders"};
    for (size_t h = 0; h < sizeof hs / sizeof *hs; h++) {
        chunk[h] = full();
        snprintf(chunk[h].hs, sizeof chunk[h].hs, "%s", h % 2 ? "847130" : hs[h]);
        chunk[h].hs_len = (uint8_t)strlen(chunk[h].hs);
        chunk[h].description = desc[h % (sizeof desc / sizeof *desc)];
        remarks[h] = (er_extra){"remarks", rm[h % 3]};   /* lang-kw2's scope: keywords in remarks */
        chunk[h].extra = &remarks[h];
        chunk[h].n_extra = 1;
    }
    size_t nc = sizeof hs / sizeof *hs;
    er_eval_scopes(ev, chunk, nc, need);
    for (size_t h = 0; h < nc; h++) {
        const er_profile_result *r;
        size_t n = er_eval_run(ev, &chunk[h], NULL, &r);
        er_profile_result kept[8];
        ck_assert_uint_le(n, 8);
        memcpy(kept, r, n * sizeof *r);
        ck_assert(need[h] == er_eval_any_scope(ev, &chunk[h]));
        er_eval_run(ev, &chunk[h], NULL, &r);   /* fresh: nothing kept any more */
        ck_assert_msg(memcmp(kept, r, n * sizeof *r) == 0, "results differ for %s", hs[h]);
    }
    er_decl d = full();
    strcpy(d.hs, "847130");
    d.description = "Toys";
    ck_assert(!er_eval_any_scope(ev, &d));
    /* a scope that tests an anomaly cannot be judged without them: a candidate
     * profile with one says yes (lang-a, gated by the declaration's code 0507,
     * its scope false for an export); a profile whose gate does not hold is not
     * a candidate and says nothing (lang-kw2: no keyword of its set in remarks) */
    size_t pa = set->n_prof, pk = set->n_prof;
    for (size_t i = 0; i < set->n_prof; i++) {
        if (strcmp(set->prof[i].info.id, "lang-a") == 0)
            pa = i;
        if (strcmp(set->prof[i].info.id, "lang-kw2") == 0)
            pk = i;
    }
    ck_assert(pa < set->n_prof && pk < set->n_prof);
    strcpy(d.hs, "050790");
    d.hs_len = 6;
    d.flow = ER_FLOW_EX;
    ck_assert(!er_eval_any_scope(ev, &d));
    set->prof[pa].scope_anomaly = 1;
    ck_assert(er_eval_any_scope(ev, &d));
    set->prof[pa].scope_anomaly = 0;
    set->prof[pk].scope_anomaly = 1;
    ck_assert(!er_eval_any_scope(ev, &d));
    set->prof[pk].scope_anomaly = 0;
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("profile_eval");
    TCase *tc = tcase_create("eval");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, normalize);
    tcase_add_test(tc, full_declaration_fires_everything);
    tcase_add_test(tc, evidence_strings);
    tcase_add_test(tc, scope_and_window);
    tcase_add_test(tc, keywords_boundaries_and_accents);
    tcase_add_test(tc, anomaly_no_data);
    tcase_add_test(tc, numbers_routes_and_absent_values);
    tcase_add_test(tc, score_lanes_and_alert);
    tcase_add_test(tc, negation_evidence_and_second_keyword_profile);
    tcase_add_test(tc, random_selection_is_deterministic);
    tcase_add_test(tc, explain_trace);
    tcase_add_test(tc, describe_and_names);
    tcase_add_test(tc, any_scope_matches_the_full_run);
    tcase_add_test(tc, keyword_trie_across_packs);
    tcase_add_test(tc, keyword_trie_filter_exact);
    tcase_add_test(tc, keyword_scan_brute_force);
    tcase_add_test(tc, gates_change_nothing_on_shipped_packs);
    tcase_add_test(tc, hs_memo_matches_the_trie);
    suite_add_tcase(s, tc);
    return s;
}
