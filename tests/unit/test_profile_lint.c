/*
 * test_profile_lint.c — one test per lint error class: each broken pack under
 * tests/fixtures/profiles/broken/ must fail to load with exactly the expected
 * file, JSON path and message; warnings must not fail the load; and a corpus
 * of mutated and malformed pack files must never crash the loader.
 */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "tmp_fixture.h"

#define BROKEN ECORISK_SOURCE_DIR "/tests/fixtures/profiles/broken/"

static er_refdata *ref;

static void setup(void)
{
    er_err err;
    ck_assert_msg(er_refdata_load(&ref, NULL, &err) == ER_OK, "%s", err.msg);
}

static void teardown(void)
{
    er_refdata_free(ref);
    ref = NULL;
}

static int32_t today(void)
{
    int32_t d;
    ck_assert_int_eq(er_date_parse("2026-11-25", 10, &d), ER_OK);
    return d;
}

static er_profileset *load(const char *name, er_status expect_st)
{
    char path[1024];
    snprintf(path, sizeof path, BROKEN "%s", name);
    const char *paths[] = {path};
    er_profile_opts o = {.ref = ref, .today = today()};
    er_profileset *s = NULL;
    er_err err = {{0}};
    er_status st = er_profileset_load(&s, paths, 1, &o, true, &err);
    ck_assert_msg(st == expect_st, "%s: status %s, expected %s (%s)", name, er_status_str(st),
                  er_status_str(expect_st), err.msg);
    ck_assert_ptr_nonnull(s);
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Loads `name`, expects exactly one message (error unless warning) with that file suffix, path, text. */
static void expect_one(const char *name, er_status st, const char *file, const char *path, const char *msg)
{
    er_profileset *s = load(name, st);
    const er_lint_msg *m;
    size_t n = er_profileset_lint(s, &m);
    ck_assert_msg(n == 1, "%s: %zu messages, expected 1 (first: %s)", name, n, n ? m[0].message : "-");
    ck_assert_int_eq(m[0].severity, ER_LINT_ERROR);
    ck_assert_msg(ends_with(m[0].file, file), "file %s", m[0].file);
    ck_assert_str_eq(m[0].path, path);
    ck_assert_str_eq(m[0].message, msg);
    er_profileset_free(s);
}

START_TEST(ok_pack_is_clean)
{
    er_profileset *s = load("ok.json", ER_OK);
    const er_lint_msg *m;
    ck_assert_uint_eq(er_profileset_lint(s, &m), 0);
    ck_assert_uint_eq(er_profileset_count(s), 1);
    const er_profile_info *in = er_profileset_info(s, 0);
    ck_assert_str_eq(in->id, "t-base");
    ck_assert_int_eq(in->version, 1);
    ck_assert_uint_eq(in->n_indicators, 2);
    ck_assert_double_eq(in->alert_threshold, 50);
    ck_assert_uint_eq(er_profileset_find(s, "t-base"), 0);
    ck_assert_uint_eq(er_profileset_find(s, "nope"), (size_t)-1);
    ck_assert_uint_eq(strlen(er_profileset_hash(s)), 16);
    er_profileset_free(s);
}
END_TEST

START_TEST(unknown_field)
{
    expect_one("unknown-field.json", ER_EPROFILE, "unknown-field.json", "profiles[0].colour",
               "unknown field \"colour\" (expected one of: id, version, domain, title, owner, description, "
               "valid_from, valid_until, review_by, references, scope, indicators, alert_threshold, lanes, random_rate, prior, anomaly_scale, tags)");
}
END_TEST

START_TEST(unknown_condition_field)
{
    expect_one("unknown-cond-field.json", ER_EPROFILE, "unknown-cond-field.json", "profiles[0].indicators[1].when.field",
               "unknown field \"colour\" (expected a declaration field such as hs, origin, description, net_kg, "
               "unit_value, or extra.<column>)");
}
END_TEST

START_TEST(unknown_operator)
{
    expect_one("unknown-operator.json", ER_EPROFILE, "unknown-operator.json", "profiles[0].indicators[0].when.like",
               "unknown operator \"like\" for field \"origin\" (expected one of: eq, in, in_list, exists)");
}
END_TEST

/* An empty operator name once looped forever (found by fuzz_profile), and a
 * part of an allowed name ("q" of "eq") must not pass for it. */
START_TEST(empty_and_partial_operator)
{
    expect_one("empty-operator.json", ER_EPROFILE, "empty-operator.json", "profiles[0].indicators[0].when.",
               "unknown operator \"\" for field \"origin\" (expected one of: eq, in, in_list, exists)");
    expect_one("partial-operator.json", ER_EPROFILE, "partial-operator.json", "profiles[0].indicators[0].when.q",
               "unknown operator \"q\" for field \"origin\" (expected one of: eq, in, in_list, exists)");
}
END_TEST

START_TEST(unknown_list)
{
    expect_one("unknown-list.json", ER_EPROFILE, "unknown-list.json", "profiles[0].indicators[0].when.in_list",
               "unknown list \"no-such-list\" (expected a file no-such-list.txt or no-such-list.json in "
               ECORISK_SOURCE_DIR "/tests/fixtures/profiles/broken/lists)");
}
END_TEST

START_TEST(invalid_hs_inline)
{
    expect_one("invalid-hs.json", ER_EPROFILE, "invalid-hs.json", "profiles[0].scope.prefix[1]",
               "invalid HS code \"05A7\" (expected 2 to 10 digits; dots and spaces are ignored)");
}
END_TEST

START_TEST(invalid_hs_in_list)
{
    expect_one("invalid-hs-list.json", ER_EPROFILE, "lists/bad-hs.txt", "line 5",
               "invalid HS code \"05079X\" (expected 2 to 10 digits; dots and spaces are ignored)");
}
END_TEST

START_TEST(invalid_country)
{
    expect_one("invalid-country.json", ER_EPROFILE, "invalid-country.json", "profiles[0].indicators[0].when.in[1]",
               "invalid country \"XX\" (expected an ISO 3166-1 alpha-2 code)");
}
END_TEST

START_TEST(weight_out_of_range)
{
    expect_one("weight-range.json", ER_EPROFILE, "weight-range.json", "profiles[0].indicators[1].weight",
               "weight 150 out of range (expected 0 to 100)");
}
END_TEST

START_TEST(duplicate_id)
{
    er_profileset *s = load("duplicate-id.json", ER_EPROFILE);
    const er_lint_msg *m;
    ck_assert_uint_eq(er_profileset_lint(s, &m), 1);
    ck_assert_str_eq(m[0].path, "profiles[1].id");
    ck_assert_str_eq(m[0].message, "duplicate profile id \"t-base\" (first defined in " BROKEN
                                   "duplicate-id.json at profiles[0])");
    er_profileset_free(s);
}
END_TEST

static void expect_warning(const char *name, const char *path, const char *message)
{
    er_profileset *s = load(name, ER_OK);
    const er_lint_msg *m;
    ck_assert_uint_eq(er_profileset_lint(s, &m), 1);
    ck_assert_int_eq(m[0].severity, ER_LINT_WARNING);
    ck_assert_str_eq(m[0].path, path);
    ck_assert_str_eq(m[0].message, message);
    er_profileset_free(s);
}

/* An ended window is a warning, never a reason to refuse the pack: the window
 * applies to declaration dates, so history can still be scored. */
START_TEST(validity_ended)
{
    expect_warning("validity-ended.json", "profiles[0].valid_until",
                   "validity ended on 2025-06-30 (today is 2026-11-25); declarations dated after it are out of scope");
}
END_TEST

/* 2027-02-22 is 89 days after 2026-11-25: inside the 90-day notice. */
START_TEST(validity_ends_soon)
{
    expect_warning("validity-ends-soon.json", "profiles[0].valid_until",
                   "validity ends on 2027-02-22, in 89 days (today is 2026-11-25); declarations dated after it "
                   "will be out of scope");
}
END_TEST

START_TEST(review_overdue)
{
    expect_warning("review-overdue.json", "profiles[0].review_by", "review overdue since 2026-11-24 (today is 2026-11-25)");
}
END_TEST

START_TEST(unreachable_threshold)
{
    expect_one("unreachable.json", ER_EPROFILE, "unreachable.json", "profiles[0].alert_threshold",
               "unreachable threshold: alert_threshold 80 exceeds the sum of indicator weights 70 "
               "(expected at most the sum)");
}
END_TEST

START_TEST(lane_order)
{
    expect_one("lane-order.json", ER_EPROFILE, "lane-order.json", "profiles[0].lanes",
               "lane thresholds out of order: red 40, yellow 60, blue 30 (expected red >= yellow >= blue)");
}
END_TEST

START_TEST(missing_field)
{
    expect_one("missing-field.json", ER_EPROFILE, "missing-field.json", "profiles[0]",
               "missing required field \"scope\"");
}
END_TEST

START_TEST(unknown_anomaly)
{
    expect_one("unknown-anomaly.json", ER_EPROFILE, "unknown-anomaly.json", "profiles[0].indicators[1].when.anomaly",
               "unknown anomaly \"price_weird\" (expected unit_value_low, unit_value_high, mahalanobis, "
               "route_rarity or new_trader)");
}
END_TEST

START_TEST(list_without_header)
{
    expect_one("no-header-list.json", ER_EPROFILE, "lists/no-header.txt", "header",
               "list must name its source and date (expected \"# source: ...\" and \"# date: YYYY-MM-DD\" "
               "comment lines)");
}
END_TEST

START_TEST(nested_path)
{
    expect_one("nested-path.json", ER_EPROFILE, "nested-path.json", "profiles[0].indicators[1].when.all[1].any[0].gt",
               "expected a number, got a string");
}
END_TEST

START_TEST(not_json_is_unloadable)
{
    expect_one("not-json.json", ER_EPARSE, "not-json.json", "",
               "invalid JSON at line 3, column 27: quoted object property name expected (expected a JSON document)");
}
END_TEST

START_TEST(missing_file)
{
    const char *paths[] = {BROKEN "does-not-exist.json"};
    er_profile_opts o = {.ref = ref, .today = today()};
    er_profileset *s = NULL;
    er_err err;
    ck_assert_int_eq(er_profileset_load(&s, paths, 1, &o, false, &err), ER_ENOTFOUND);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, BROKEN "does-not-exist.json: cannot open: No such file or directory");
}
END_TEST

START_TEST(error_without_keep_names_first_problem)
{
    const char *paths[] = {BROKEN "weight-range.json"};
    er_profile_opts o = {.ref = ref, .today = today()};
    er_profileset *s = NULL;
    er_err err;
    ck_assert_int_eq(er_profileset_load(&s, paths, 1, &o, false, &err), ER_EPROFILE);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, BROKEN "weight-range.json: profiles[0].indicators[1].weight: weight 150 out of range "
                              "(expected 0 to 100) (1 error in all)");
}
END_TEST

START_TEST(warnings_do_not_fail)
{
    er_profileset *s = load("warnings.json", ER_OK);
    const er_lint_msg *m;
    size_t n = er_profileset_lint(s, &m);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(m[i].severity, ER_LINT_WARNING);
    ck_assert_str_eq(m[0].path, "profiles[0].scope.prefix[1]");
    ck_assert_str_eq(m[0].message, "HS code \"050790\" overlaps \"0507\", which already covers it");
    ck_assert_str_eq(m[1].path, "profiles[0].indicators[1].when");
    ck_assert_str_eq(m[1].message, "condition identical to profiles[0].indicators[0].when (the two indicators "
                                   "overlap and count twice)");
    ck_assert_str_eq(m[4].path, "profiles[1].scope");
    ck_assert_str_eq(m[4].message, "scope identical to profile \"t-base\" (profiles[0]): the profiles overlap");
    ck_assert_uint_eq(er_profileset_count(s), 2);
    er_profileset_free(s);
}
END_TEST

START_TEST(not_yet_valid_is_a_warning)
{
    er_profileset *s = load("not-yet-valid.json", ER_OK);
    const er_lint_msg *m;
    ck_assert_uint_eq(er_profileset_lint(s, &m), 1);
    ck_assert_int_eq(m[0].severity, ER_LINT_WARNING);
    ck_assert_str_eq(m[0].path, "profiles[0].valid_from");
    ck_assert_str_eq(m[0].message, "not yet valid: valid_from 2027-01-01 is after today (2026-11-25); declarations "
                                   "dated before it are out of scope");
    er_profileset_free(s);
}
END_TEST

START_TEST(broken_json_list_is_reported_once)
{
    expect_one("broken-json-list.json", ER_EPARSE, "lists/broken-json.json", "",
               "invalid JSON at line 1, column 67: unexpected character (expected a JSON document)");
}
END_TEST

START_TEST(shipped_packs_lint_clean)
{
    const char *paths[] = {ECORISK_SOURCE_DIR "/profiles"};
    er_profile_opts o = {.ref = ref, .today = today()};
    er_profileset *s = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_profileset_load(&s, paths, 1, &o, true, &err) == ER_OK, "%s", err.msg);
    const er_lint_msg *m;
    size_t n = er_profileset_lint(s, &m);
    ck_assert_msg(n == 0, "%s: %s: %s", n ? m[0].file : "", n ? m[0].path : "", n ? m[0].message : "");
    ck_assert_uint_eq(er_profileset_count(s), 23);
    size_t per[ER_DOMAIN_COUNT] = {0};
    for (size_t i = 0; i < er_profileset_count(s); i++) {
        const er_profile_info *in = er_profileset_info(s, i);
        per[in->domain]++;
        ck_assert(in->n_references > 0);
        ck_assert(in->valid_from == 0 && in->valid_until == 0);   /* no hard stop: backtests of any year */
        ck_assert(in->review_by > 0);
        for (size_t k = 0; k < in->n_indicators; k++)
            ck_assert(in->indicators[k].reason && *in->indicators[k].reason);
    }
    ck_assert_uint_ge(per[ER_DOMAIN_WILDLIFE], 6);
    ck_assert_uint_ge(per[ER_DOMAIN_ODS], 6);
    ck_assert_uint_ge(per[ER_DOMAIN_WASTE], 6);
    er_profileset_free(s);
}
END_TEST

/* ---- corpus: the loader never crashes --------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

/* Writes data to a temp pack next to the shipped lists and loads it. */
static er_status load_bytes(const char *dir, const char *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/corpus.json", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(data, 1, len, f);
    fclose(f);
    const char *paths[] = {path};
    char lists[1024];
    snprintf(lists, sizeof lists, "%s", ECORISK_SOURCE_DIR "/profiles/lists");
    er_profile_opts o = {.ref = ref, .today = today(), .lists_dir = lists};
    er_profileset *s = NULL;
    er_err err;
    er_status st = er_profileset_load(&s, paths, 1, &o, true, &err);
    if (s) {
        /* whatever loaded must be usable */
        const er_lint_msg *m;
        size_t n = er_profileset_lint(s, &m);
        for (size_t i = 0; i < n; i++)
            ck_assert(m[i].file && m[i].path && m[i].message);
        for (size_t i = 0; i < er_profileset_count(s); i++)
            free(er_profile_describe(s, i));
    }
    er_profileset_free(s);
    return st;
}

START_TEST(corpus_never_crashes)
{
    char dir[900];
    tf_mkdtemp(dir, sizeof dir, "lint-");
    static const char *const packs[] = {"wildlife.json", "ods.json", "waste.json"};
    unsigned seed = 12345;
    size_t runs = 0, failures = 0;
    for (size_t p = 0; p < 3; p++) {
        char path[1024];
        snprintf(path, sizeof path, ECORISK_SOURCE_DIR "/profiles/%s", packs[p]);
        size_t len = 0;
        char *orig = slurp(path, &len);
        ck_assert_ptr_nonnull(orig);
        char *buf = malloc(len + 1);
        /* truncations */
        for (size_t cut = 0; cut < len; cut += len / 40 + 1) {
            failures += load_bytes(dir, orig, cut) != ER_OK;
            runs++;
        }
        /* byte mutations: flip, delete, replace with JSON punctuation or digits */
        static const char repl[] = "{}[]\":,0123456789-.eE tfn\\x";
        for (int k = 0; k < 150; k++) {
            memcpy(buf, orig, len);
            size_t n = len;
            for (int m = 0; m < 3; m++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % n;
                seed = seed * 1103515245u + 12345u;
                buf[at] = repl[(seed >> 8) % (sizeof repl - 1)];
            }
            failures += load_bytes(dir, buf, n) != ER_OK;
            runs++;
        }
        free(buf);
        free(orig);
    }
    /* structurally odd but valid JSON */
    static const char *const odd[] = {
        "null", "[]", "{}", "{\"domain\":\"wildlife\"}", "{\"domain\":\"wildlife\",\"profiles\":{}}",
        "{\"domain\":\"wildlife\",\"profiles\":[null,1,\"x\",[],{}]}",
        "{\"domain\":7,\"profiles\":[]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"scope\":{\"all\":[]},\"indicators\":[{}]}]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"scope\":{\"not\":{\"not\":{\"not\":{\"any\":[{\"field\":\"hs\"}]}}}}}]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"scope\":{\"route\":{}},\"indicators\":[{\"when\":{\"route\":{\"pairs\":[\"NG>\",\">CN\",\"NGCN\"]}}}]}]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"scope\":{\"field\":\"description\",\"keywords\":[\"\",\"*\",\"**\",\"   \"]}}]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"scope\":{\"field\":\"hs\",\"prefix_list\":[\"../../etc/passwd\",\"\",\".x\"]}}]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"lanes\":{\"red\":1e308,\"yellow\":-1e308,\"blue\":null},\"alert_threshold\":1e400}]}",
        "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"indicators\":[{\"id\":\"x\",\"weight\":50,\"reason\":\"r\",\"when\":{\"field\":\"net_kg\",\"between\":[5,1]}}]}]}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        failures += load_bytes(dir, odd[i], strlen(odd[i])) != ER_OK;
        runs++;
    }
    /* deep nesting: past the condition limit (32) and past the JSON parser's depth (64) */
    for (size_t depth = 40; depth <= 200; depth += 160) {
        size_t o = 0;
        char *deep = malloc(depth * 20 + 200);
        o += (size_t)sprintf(deep + o, "{\"domain\":\"wildlife\",\"profiles\":[{\"id\":\"a\",\"scope\":");
        for (size_t i = 0; i < depth; i++)
            o += (size_t)sprintf(deep + o, "{\"not\":");
        o += (size_t)sprintf(deep + o, "{\"field\":\"hs\",\"prefix\":[\"01\"]}");
        for (size_t i = 0; i < depth; i++)
            deep[o++] = '}';
        o += (size_t)sprintf(deep + o, "}]}");
        ck_assert_int_eq(load_bytes(dir, deep, o), depth == 40 ? ER_EPROFILE : ER_EPARSE);
        free(deep);
    }
    /* every JSON test-suite file as a pack */
    const char *shared = getenv("ECORISK_SHARED_DATA");
    if (shared) {
        char listing[2048];
        snprintf(listing, sizeof listing, "ls %s/jsontestsuite/test_parsing/*.json 2>/dev/null", shared);
        FILE *ls = popen(listing, "r");
        char line[2048];
        while (ls && fgets(line, sizeof line, ls)) {
            line[strcspn(line, "\n")] = '\0';
            size_t len = 0;
            char *b = slurp(line, &len);
            if (b) {
                failures += load_bytes(dir, b, len) != ER_OK;
                runs++;
                free(b);
            }
        }
        if (ls)
            pclose(ls);
    }
    ck_assert_uint_gt(runs, 400);
    ck_assert_uint_gt(failures, runs / 2);   /* mutated packs are overwhelmingly rejected */
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("profile_lint");
    TCase *tc = tcase_create("lint");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, ok_pack_is_clean);
    tcase_add_test(tc, unknown_field);
    tcase_add_test(tc, unknown_condition_field);
    tcase_add_test(tc, unknown_operator);
    tcase_add_test(tc, empty_and_partial_operator);
    tcase_add_test(tc, unknown_list);
    tcase_add_test(tc, invalid_hs_inline);
    tcase_add_test(tc, invalid_hs_in_list);
    tcase_add_test(tc, invalid_country);
    tcase_add_test(tc, weight_out_of_range);
    tcase_add_test(tc, duplicate_id);
    tcase_add_test(tc, validity_ended);
    tcase_add_test(tc, validity_ends_soon);
    tcase_add_test(tc, review_overdue);
    tcase_add_test(tc, unreachable_threshold);
    tcase_add_test(tc, lane_order);
    tcase_add_test(tc, missing_field);
    tcase_add_test(tc, unknown_anomaly);
    tcase_add_test(tc, list_without_header);
    tcase_add_test(tc, nested_path);
    tcase_add_test(tc, not_json_is_unloadable);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, error_without_keep_names_first_problem);
    tcase_add_test(tc, warnings_do_not_fail);
    tcase_add_test(tc, not_yet_valid_is_a_warning);
    tcase_add_test(tc, broken_json_list_is_reported_once);
    tcase_add_test(tc, shipped_packs_lint_clean);
    tcase_add_test(tc, corpus_never_crashes);
    suite_add_tcase(s, tc);
    return s;
}
