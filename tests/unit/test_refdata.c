/*
 * test_refdata.c — the shipped reference tables (countries with OECD / EU
 * flags, currency rates) and the loader's error reporting on broken files.
 */
#include <sys/stat.h>

#include "check_main.h"
#include "feed_fixture.h"

START_TEST(country_table)
{
    const er_refdata *r = fx_ref();
    uint16_t cc = 0;
    ck_assert(er_country_parse(r, "fr", 2, &cc));
    ck_assert_int_eq(cc, ER_CC('F', 'R'));
    ck_assert(er_country_valid(r, cc));
    ck_assert(er_country_eu(r, cc));
    ck_assert(er_country_oecd(r, cc));
    ck_assert_str_eq(er_country_name(r, cc), "France");
    ck_assert(er_country_parse(r, "US", 2, &cc));
    ck_assert(er_country_oecd(r, cc) && !er_country_eu(r, cc));
    ck_assert(er_country_parse(r, "KR", 2, &cc));
    ck_assert(er_country_oecd(r, cc));
    ck_assert(er_country_parse(r, "CN", 2, &cc));
    ck_assert(!er_country_oecd(r, cc) && !er_country_eu(r, cc));
    ck_assert(er_country_parse(r, "NA", 2, &cc));   /* Namibia, not a missing value */
    ck_assert_str_eq(er_country_name(r, cc), "Namibia");
    ck_assert(!er_country_parse(r, "UK", 2, &cc));
    ck_assert(!er_country_parse(r, "ZZ", 2, &cc));
    ck_assert(!er_country_parse(r, "XX", 2, &cc));
    ck_assert(!er_country_parse(r, "F", 1, &cc));
    ck_assert(!er_country_parse(r, "FRA", 3, &cc));
    ck_assert(!er_country_parse(r, "1A", 2, &cc));
    ck_assert(!er_country_valid(r, ER_CC('Z', 'Z')));
    ck_assert(!er_country_valid(r, 0));
    ck_assert_str_eq(er_country_name(r, ER_CC('Z', 'Z')), "");
    /* counts: 249 countries, 38 OECD, 27 EU */
    int n = 0, oecd = 0, eu = 0;
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++) {
            uint16_t c = ER_CC(a, b);
            n += er_country_valid(r, c);
            oecd += er_country_oecd(r, c);
            eu += er_country_eu(r, c);
        }
    ck_assert_int_eq(n, 249);
    ck_assert_int_eq(oecd, 38);
    ck_assert_int_eq(eu, 27);
}
END_TEST

START_TEST(currencies)
{
    const er_refdata *r = fx_ref();
    double v = 0;
    ck_assert_str_eq(er_refdata_ref_currency(r), "USD");
    ck_assert(er_currency_rate(r, "USD", &v) && v == 1.0);
    ck_assert(er_currency_rate(r, "EUR", &v) && v == 1.15473);
    ck_assert(er_currency_rate(r, "KRW", &v) && v == 0.000680272);
    ck_assert(er_currency_rate(r, "CNY", &v) && v == 0.140647);
    ck_assert(er_currency_rate(r, "eur", &v));
    ck_assert(!er_currency_rate(r, "XYZ", &v));
    ck_assert(!er_currency_rate(r, "EU", &v));
    ck_assert(!er_currency_rate(r, "EURO", &v));
    ck_assert(!er_currency_rate(r, NULL, &v));
}
END_TEST

static const char *mkdir_ref(const char *countries, const char *rates)
{
    static char dir[1024];
    tf_mkdtemp(dir, sizeof dir, "ref-");
    char p[1100];
    if (countries) {
        snprintf(p, sizeof p, "%s/countries.csv", dir);
        FILE *f = fopen(p, "w");
        fputs(countries, f);
        fclose(f);
    }
    if (rates) {
        snprintf(p, sizeof p, "%s/currency-rates.csv", dir);
        FILE *f = fopen(p, "w");
        fputs(rates, f);
        fclose(f);
    }
    return dir;
}

#define C_GOOD "# comment\nalpha2,alpha3,name,region,subregion,oecd,eu\nFR,FRA,France,Europe,W,1,1\n"
#define R_GOOD "code,per_ref\nUSD,1\nEUR,1.1\n"

typedef struct bad_ref {
    const char *countries, *rates;
    er_status st;
    const char *tail;
} bad_ref;

static const bad_ref BAD[] = {
    {"alpha2,name,oecd\nFR,France,1\n", R_GOOD, ER_EFORMAT, "/countries.csv:1: header lacks column 'eu'"},
    {C_GOOD "fr,FRA,France,Europe,W,1,1\n", R_GOOD, ER_EFORMAT,
     "/countries.csv:4: alpha2 'fr' is not two upper-case letters"},
    {C_GOOD "FR,FRA,France,Europe,W,1,1\n", R_GOOD, ER_EFORMAT, "/countries.csv:4: duplicate country FR"},
    {C_GOOD "DE,DEU,Germany,Europe,W,yes,1\n", R_GOOD, ER_EFORMAT,
     "/countries.csv:4: oecd and eu must be 0 or 1"},
    {C_GOOD "DE,DEU\n", R_GOOD, ER_EFORMAT, "/countries.csv:4: expected 4 fields, got 2"},
    {C_GOOD, "code,per_ref\nUSD,1\nEUR,-1\n", ER_EFORMAT,
     "/currency-rates.csv:3: per_ref '-1' is not a positive number"},
    {C_GOOD, "code,per_ref\nUSD,1\nEURO,1\n", ER_EFORMAT,
     "/currency-rates.csv:3: code 'EURO' is not three upper-case letters"},
    {C_GOOD, "code,per_ref\nEUR,1.1\n", ER_EFORMAT,
     "/currency-rates.csv: the reference currency USD must have per_ref 1"},
    {C_GOOD, "code,per_ref\n", ER_EFORMAT, "/currency-rates.csv: no data rows"},
    {C_GOOD, NULL, ER_ENOTFOUND, "/currency-rates.csv: cannot open: No such file or directory"},
};

START_TEST(broken_reference_files)
{
    const bad_ref *c = &BAD[_i];
    const char *dir = mkdir_ref(c->countries, c->rates);
    er_refdata *r = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_refdata_load(&r, dir, &err), c->st);
    ck_assert_ptr_null(r);
    char want[1024];
    snprintf(want, sizeof want, "%s%s", dir, c->tail);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(minimal_reference_loads)
{
    er_refdata *r = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_refdata_load(&r, mkdir_ref(C_GOOD, R_GOOD), &err), ER_OK);
    uint16_t cc;
    ck_assert(er_country_parse(r, "FR", 2, &cc));
    ck_assert(!er_country_parse(r, "DE", 2, &cc));
    er_refdata_free(r);
    er_refdata_free(NULL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("refdata");
    TCase *t = tcase_create("refdata");
    tcase_add_test(t, country_table);
    tcase_add_test(t, currencies);
    tcase_add_loop_test(t, broken_reference_files, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(t, minimal_reference_loads);
    suite_add_tcase(s, t);
    return s;
}
