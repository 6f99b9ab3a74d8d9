/*
 * test_validate.c — the docs/feeds.md validation rules, one by one, through
 * the real feed reader: every rejection has its exact reason, field and
 * detail; accepted records carry exactly converted values. Also mappings
 * (kcs-customs value maps, constants, extras, errors), duplicate ids, date
 * filters and the number / UTF-8 primitives.
 */
#include <math.h>

#include "check_main.h"
#include "feed_fixture.h"
#include "feed_internal.h"

#define H "id,date,flow,declarant,importer,exporter,hs,description,origin,export_country," \
          "destination,transit,mode,office,net_kg,gross_kg,quantity,unit,value,currency,"   \
          "packages,container\n"
#define ROW_TAIL "NLSPL,12.5,14,40,NAR,5200,EUR,2,MSCU1234565\n"
#define BASE "X1,2026-01-05,IM,D1,I1,E1,010690,Live reptiles,TG,TG,NL,AE;QA,AIR," ROW_TAIL

START_TEST(accepts_base_row)
{
    fx_result r;
    fx_ingest(&r, H BASE, ".csv", NULL);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_int_eq(r.next_st, ER_EOF);
    ck_assert_uint_eq(r.st.rows_read, 1);
    ck_assert_uint_eq(r.st.accepted, 1);
    ck_assert_uint_eq(r.n, 1);
    const er_decl *d = &r.d[0];
    int32_t day;
    ck_assert_int_eq(er_date_parse("2026-01-05", 10, &day), ER_OK);
    ck_assert_str_eq(d->id, "X1");
    ck_assert_int_eq(d->date, day);
    ck_assert_int_eq(d->flow, ER_FLOW_IM);
    ck_assert_str_eq(d->declarant, "D1");
    ck_assert_str_eq(d->importer, "I1");
    ck_assert_str_eq(d->exporter, "E1");
    ck_assert_str_eq(d->hs, "010690");
    ck_assert_int_eq(d->hs_len, 6);
    ck_assert_str_eq(d->description, "Live reptiles");
    ck_assert_int_eq(d->origin, ER_CC('T', 'G'));
    ck_assert_int_eq(d->export_country, ER_CC('T', 'G'));
    ck_assert_int_eq(d->destination, ER_CC('N', 'L'));
    ck_assert_int_eq(d->n_transit, 2);
    ck_assert_int_eq(d->transit[0], ER_CC('A', 'E'));
    ck_assert_int_eq(d->transit[1], ER_CC('Q', 'A'));
    ck_assert_int_eq(d->mode, ER_MODE_AIR);
    ck_assert_str_eq(d->office, "NLSPL");
    ck_assert_double_eq(d->net_kg, 12.5);
    ck_assert_double_eq(d->gross_kg, 14);
    ck_assert_double_eq(d->quantity, 40);
    ck_assert_str_eq(d->unit, "NAR");
    ck_assert_double_eq(d->value, 5200);
    ck_assert_str_eq(d->currency, "EUR");
    double rate;
    ck_assert(er_currency_rate(fx_ref(), "EUR", &rate));
    ck_assert_double_eq(d->value_ref, 5200 * rate);
    ck_assert_double_eq(d->packages, 2);
    ck_assert_str_eq(d->container, "MSCU1234565");
    ck_assert_uint_eq(d->present, ER_P_NET_KG | ER_P_GROSS_KG | ER_P_QUANTITY | ER_P_VALUE |
                                      ER_P_PACKAGES | ER_P_VALUE_REF);
    ck_assert_uint_eq(d->line, 2);
    ck_assert_uint_eq(d->seq, 0);
    ck_assert_uint_eq(d->n_extra, 0);
    ck_assert_int_eq(r.st.min_date, day);
    ck_assert_int_eq(r.st.max_date, day);
    fx_free(&r);
}
END_TEST

START_TEST(normalises_codes)
{
    fx_result r;
    fx_ingest(&r, H "X1,20260105T10:00,ex,D1,I1,E1,0106.90.10, Reptiles , tg ,TG,NL,,4, "
                    "NLSPL ,1e3,1000,,KGM,.5,eur,-0,\n"
                    "X2,2026-01-05,TR,,,,0106 90,,,,,,air,,,,,,+3,,,\n", ".csv", NULL);
    ck_assert_uint_eq(r.st.accepted, 2);
    const er_decl *d = &r.d[0];
    ck_assert_int_eq(d->flow, ER_FLOW_EX);
    ck_assert_str_eq(d->hs, "01069010");
    ck_assert_int_eq(d->hs_len, 8);
    ck_assert_str_eq(d->description, " Reptiles ");   /* free text is kept as is */
    ck_assert_int_eq(d->origin, ER_CC('T', 'G'));
    ck_assert_int_eq(d->mode, ER_MODE_AIR);           /* UN/ECE Rec 19 code 4 */
    ck_assert_str_eq(d->office, "NLSPL");
    ck_assert_double_eq(d->net_kg, 1000);
    ck_assert_double_eq(d->value, 0.5);
    ck_assert_str_eq(d->currency, "EUR");
    ck_assert_double_eq(d->packages, 0);
    ck_assert(!signbit(d->packages));
    ck_assert_uint_eq(d->present, ER_P_NET_KG | ER_P_GROSS_KG | ER_P_VALUE | ER_P_VALUE_REF |
                                      ER_P_PACKAGES);
    d = &r.d[1];
    ck_assert_str_eq(d->hs, "010690");
    ck_assert_int_eq(d->mode, ER_MODE_AIR);
    ck_assert_ptr_null(d->declarant);
    ck_assert_ptr_null(d->description);
    ck_assert_int_eq(d->origin, 0);
    ck_assert_str_eq(d->currency, "");
    ck_assert_uint_eq(d->present, ER_P_VALUE);         /* no currency: no value_ref */
    fx_free(&r);
}
END_TEST

/* Values are trimmed of spaces and tabs (not the description) wherever they
 * sit: unquoted or inside quotes, first or last on the line; a line with
 * nothing to trim is read as it is; and with a tab delimiter, a tab inside
 * quotes at a value's edge is trimmed too. */
START_TEST(trims_values_at_field_edges)
{
    fx_result r;
    fx_ingest(&r, "id,date,hs,office,unit,description\n"
                  "T1,2026-01-05,010690,\" NLSPL \",KGM ,\" kept \"\n"
                  "T2,2026-01-05,010690,NLSPL,\tKGM,x\n"
                  "T3,2026-01-05,010690,\"NLSPL\",KGM,\"a, b\"\n"
                  " T4,2026-01-05,010690,NLSPL\t,\"KGM\",y \n", ".csv", NULL);
    ck_assert_uint_eq(r.st.accepted, 4);
    static const char *const ids[] = {"T1", "T2", "T3", "T4"}, *const descs[] = {" kept ", "x", "a, b", "y "};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(r.d[i].id, ids[i]);
        ck_assert_str_eq(r.d[i].office, "NLSPL");
        ck_assert_str_eq(r.d[i].unit, "KGM");
        ck_assert_str_eq(r.d[i].description, descs[i]);
    }
    fx_free(&r);
    static const char map[] = "{\"name\": \"tabs\", \"format\": \"csv\", \"delimiter\": \"\\t\", \"fields\": {"
                              "\"id\": \"id\", \"date\": \"date\", \"hs\": \"hs\", \"office\": \"office\"}}";
    er_mapping *m = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_mapping_load(&m, fx_tmpfile(map, strlen(map), ".json"), &err) == ER_OK, "%s", err.msg);
    fx_ingest(&r, "id\tdate\ths\toffice\nT5\t2026-01-05\t010690\t\"\tNLSPL\"\n", ".csv", m);
    ck_assert_uint_eq(r.st.accepted, 1);
    ck_assert_str_eq(r.d[0].office, "NLSPL");
    fx_free(&r);
    er_mapping_free(m);
}
END_TEST

typedef struct vcase {
    const char *row;
    const char *reason, *field, *detail;
} vcase;

static const vcase CASES[] = {
    {",2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, "missing_field", "id",
     "id is empty or missing"},
    {"X1,,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, "missing_field", "date",
     "date is empty or missing"},
    {"X1,2026-13-01,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_date", "date",
     "date: '2026-13-01' is not a valid YYYY-MM-DD date"},
    {"X1,2026-02-29,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_date", "date",
     "date: '2026-02-29' is not a valid YYYY-MM-DD date"},
    {"X1,2026-01-05,XX,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_flow", "flow",
     "flow: 'XX' is not IM, EX or TR"},
    {"X1,2026-01-05,IM,D1,I1,E1,,x,TG,TG,NL,,AIR," ROW_TAIL, "missing_field", "hs",
     "hs is empty or missing"},
    {"X1,2026-01-05,IM,D1,I1,E1,0106,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_hs", "hs",
     "hs: '0106' is not a 6 to 10 digit HS code"},
    {"X1,2026-01-05,IM,D1,I1,E1,01069012345,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_hs", "hs",
     "hs: '01069012345' is not a 6 to 10 digit HS code"},
    {"X1,2026-01-05,IM,D1,I1,E1,0106-90,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_hs", "hs",
     "hs: '0106-90' is not a 6 to 10 digit HS code"},
    {"X1,2026-01-05,IM,D1,I1,E1,77.01.00,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_hs", "hs",
     "hs: '77.01.00': chapter 77 does not exist"},
    {"X1,2026-01-05,IM,D1,I1,E1,000000,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_hs", "hs",
     "hs: '000000': chapter 00 does not exist"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,UK,TG,NL,,AIR," ROW_TAIL, "bad_country", "origin",
     "origin: 'UK' is not an ISO 3166-1 alpha-2 code"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TGO,NL,,AIR," ROW_TAIL, "bad_country",
     "export_country", "export_country: 'TGO' is not an ISO 3166-1 alpha-2 code"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,ZZ,,AIR," ROW_TAIL, "bad_country", "destination",
     "destination: 'ZZ' is not an ISO 3166-1 alpha-2 code"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,AE;XX,AIR," ROW_TAIL, "bad_country", "transit",
     "transit: 'XX' is not an ISO 3166-1 alpha-2 code"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,AE;QA;OM;SG;MY;LK;IN;PK;TR,AIR," ROW_TAIL,
     "too_long", "transit", "transit lists more than 8 countries"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,SHIP," ROW_TAIL, "bad_mode", "mode",
     "mode: 'SHIP' is not SEA, AIR, ROAD, RAIL, POST, OTHER or a UN code 0-9"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,abc,14,40,NAR,5200,EUR,2,\n",
     "bad_number", "net_kg", "net_kg: 'abc' is not a number"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,\"1,5\",NAR,5200,EUR,2,\n",
     "bad_number", "quantity", "quantity: '1,5' is not a number"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,NaN,EUR,2,\n",
     "bad_number", "value", "value: 'NaN' is not a number"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,inf,EUR,2,\n",
     "bad_number", "value", "value: 'inf' is not a number"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,1e999,EUR,2,\n",
     "bad_number", "value", "value: '1e999' is not a number"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,0x10,EUR,2,\n",
     "bad_number", "value", "value: '0x10' is not a number"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,-1,14,40,NAR,5200,EUR,2,\n",
     "negative", "net_kg", "net_kg: -1 is negative"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,5200,EUR,-2,\n",
     "negative", "packages", "packages: -2 is negative"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,10,40,NAR,5200,EUR,2,\n",
     "gross_lt_net", "gross_kg", "gross_kg 10 is less than net_kg 12.5"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,5200,XYZ,2,\n",
     "bad_currency", "currency", "currency: 'XYZ' is not an ISO 4217 code in the rates table"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,5200,EURO,2,\n",
     "bad_currency", "currency", "currency: 'EURO' is not an ISO 4217 code in the rates table"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456,"
     "12.5,14,40,NAR,5200,EUR,2,\n",
     "too_long", "office", "office is 33 bytes, limit 32"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,KILOGRAMS,5200,EUR,2,\n",
     "too_long", "unit", "unit is 9 bytes, limit 8"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,5200,EUR,2,"
     "MSCU12345650000000\n",
     "too_long", "container", "container is 18 bytes, limit 16"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,ab\xff" "cd,TG,TG,NL,,AIR," ROW_TAIL, "bad_utf8",
     "description", "description: invalid UTF-8 at byte 2 of the value (0xff)"},
    {"X1,2026-01-05,IM,D1,I\xc3\x28,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, "bad_utf8", "importer",
     "importer: invalid UTF-8 at byte 1 of the value (0xc3)"},
    {"X1,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR,NLSPL,12.5,14,40,NAR,5200,EUR,2\n",
     "field_count", NULL, "expected 22 fields (as in the header), got 21"},
};

START_TEST(rejects_with_exact_reason)
{
    const vcase *c = &CASES[_i];
    char text[4096];
    snprintf(text, sizeof text, "%s%s", H, c->row);
    fx_result r;
    fx_ingest(&r, text, ".csv", NULL);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_uint_eq(r.st.rows_read, 1);
    ck_assert_uint_eq(r.st.accepted, 0);
    ck_assert_uint_eq(r.st.quarantined, 1);
    fx_assert_q(&r, 0, c->reason, c->field, c->detail);
    ck_assert_uint_eq(r.q[0].line, 2);
    ck_assert_uint_eq(r.q[0].seq, 0);
    fx_free(&r);
}
END_TEST

START_TEST(description_limit_and_nul)
{
    /* 1025-byte description: too long; 1024 is fine. */
    char *text = malloc(8192);
    char desc[1100];
    memset(desc, 'd', 1025);
    desc[1025] = '\0';
    snprintf(text, 8192, H "X1,2026-01-05,IM,D1,I1,E1,010690,%s,TG,TG,NL,,AIR," ROW_TAIL
             "X2,2026-01-05,IM,D1,I1,E1,010690,%s,TG,TG,NL,,AIR," ROW_TAIL, desc, desc + 1);
    fx_result r;
    fx_ingest(&r, text, ".csv", NULL);
    ck_assert_uint_eq(r.st.accepted, 1);
    fx_assert_q(&r, 0, "too_long", "description", "description is 1025 bytes, limit 1024");
    ck_assert_uint_eq(strlen(r.d[0].description), 1024);
    fx_free(&r);
    /* NUL byte inside a field */
    static const char nul[] = H "X1,2026-01-05,IM,D1,I1,E1,010690,a\0b,TG,TG,NL,,AIR," ROW_TAIL;
    er_feed_opts o = {0};
    o.source = fx_tmpfile(nul, sizeof nul - 1, ".csv");
    fx_ingest_opts(&r, &o);
    fx_assert_q(&r, 0, "bad_utf8", "description", "description: NUL byte at byte 1 of the value (0x00)");
    fx_free(&r);
    free(text);
}
END_TEST

START_TEST(duplicates_and_date_filter)
{
    fx_result r;
    fx_ingest(&r, H BASE
              "X2,2026-01-06,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL
              "X1,2026-01-07,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL
              "X3,2026-01-05,IM,D1,I1,E1,0106,x,TG,TG,NL,,AIR," ROW_TAIL
              "X3,2026-01-05,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL, ".csv", NULL);
    ck_assert_uint_eq(r.st.rows_read, 5);
    ck_assert_uint_eq(r.st.accepted, 3);   /* X1, X2, and X3 (its first copy was invalid) */
    ck_assert_uint_eq(r.n_q, 2);
    fx_assert_q(&r, 0, "duplicate_id", "id", "id 'X1' already seen earlier in this feed");
    ck_assert_uint_eq(r.q[0].line, 4);
    ck_assert_uint_eq(r.q[0].seq, 2);
    fx_assert_q(&r, 1, "bad_hs", "hs", "hs: '0106' is not a 6 to 10 digit HS code");
    ck_assert_uint_eq(r.q[1].line, 5);
    ck_assert_str_eq(r.d[2].id, "X3");
    ck_assert_uint_eq(r.d[2].line, 6);
    char ds[11];
    er_date_format(r.st.max_date, ds);
    ck_assert_str_eq(ds, "2026-01-06");   /* the duplicate's date does not count */
    fx_free(&r);

    er_feed_opts o = {0};
    const char *text = H BASE "X2,2026-01-06,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL
                            "X3,2026-01-07,IM,D1,I1,E1,010690,x,TG,TG,NL,,AIR," ROW_TAIL;
    o.source = fx_tmpfile(text, strlen(text), ".csv");
    ck_assert_int_eq(er_date_parse("2026-01-06", 10, &o.since), ER_OK);
    ck_assert_int_eq(er_date_parse("2026-01-06", 10, &o.until), ER_OK);
    fx_ingest_opts(&r, &o);
    ck_assert_uint_eq(r.st.accepted, 1);
    ck_assert_str_eq(r.d[0].id, "X2");
    fx_assert_q(&r, 0, "out_of_range", "date", "date 2026-01-05 is outside --since/--until");
    fx_assert_q(&r, 1, "out_of_range", "date", "date 2026-01-07 is outside --since/--until");
    fx_free(&r);
}
END_TEST

START_TEST(extras_and_label_field)
{
    fx_result r;
    fx_ingest(&r, "id,date,hs,Fraud,Note\nA,2026-01-01,010690,1,\"a, b\"\n", ".csv", NULL);
    ck_assert_uint_eq(r.st.accepted, 1);
    ck_assert_uint_eq(r.d[0].n_extra, 2);
    ck_assert_str_eq(er_decl_extra(&r.d[0], "Fraud"), "1");
    ck_assert_str_eq(er_decl_extra(&r.d[0], "Note"), "a, b");
    ck_assert_ptr_null(er_decl_extra(&r.d[0], "hs"));
    fx_free(&r);

    er_feed_opts o = {0};
    const char *text = "id,date,hs\nA,2026-01-01,010690\n";
    o.source = fx_tmpfile(text, strlen(text), ".csv");
    o.label_field = "hs";   /* kept as an extra although mapped */
    fx_ingest_opts(&r, &o);
    ck_assert_str_eq(er_decl_extra(&r.d[0], "hs"), "010690");
    ck_assert_str_eq(r.d[0].hs, "010690");
    fx_free(&r);
}
END_TEST

START_TEST(kcs_mapping)
{
    er_mapping *m = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_mapping_load(&m, "kcs-customs", &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_mapping_name(m), "kcs-customs");
    ck_assert_int_eq(er_mapping_format(m), ER_FORMAT_CSV);
    fx_result r;
    fx_ingest(&r,
              "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,"
              "Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,"
              "Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin "
              "Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n"
              "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,"
              "FEU1,G,108.0,372254.4,0,0\n"
              "85945189,2020-01-01,40,B,11,21,11,40,SWF9S4X,7JD1S2X,8WDKMC6,,690722,CN,CN,8.0,A,"
              "Y,11352.0,375751.2,1,2\n"
              "85945190,2020-01-02,40,B,11,21,11,50,SWF9S4X,7JD1S2X,8WDKMC6,,690722,ZZ,CN,8.0,A,"
              "Y,11352.0,375751.2,0,0\n",
              ".csv", m);
    ck_assert_uint_eq(r.st.accepted, 2);
    fx_assert_q(&r, 0, "bad_country", "export_country",
                "export_country: 'ZZ' is not an ISO 3166-1 alpha-2 code");
    const er_decl *d = &r.d[0];
    ck_assert_str_eq(d->id, "97061800");
    ck_assert_str_eq(d->office, "30");
    ck_assert_int_eq(d->mode, ER_MODE_SEA);
    ck_assert_int_eq(r.d[1].mode, ER_MODE_AIR);
    ck_assert_int_eq(d->flow, ER_FLOW_IM);
    ck_assert_int_eq(d->destination, ER_CC('K', 'R'));
    ck_assert_int_eq(d->origin, ER_CC('B', 'E'));
    ck_assert_int_eq(d->export_country, ER_CC('B', 'E'));
    ck_assert_str_eq(d->declarant, "ZZR1LT6");
    ck_assert_str_eq(d->importer, "QLRUBN9");
    ck_assert_str_eq(d->exporter, "0VKY2BR");
    ck_assert_str_eq(d->hs, "440890");
    ck_assert_double_eq(d->net_kg, 108.0);
    ck_assert_double_eq(d->value, 372254.4);
    ck_assert_str_eq(d->currency, "KRW");
    double rate;
    ck_assert(er_currency_rate(fx_ref(), "KRW", &rate));
    ck_assert_double_eq(d->value_ref, 372254.4 * rate);
    ck_assert_uint_eq(d->n_extra, 10);
    ck_assert_str_eq(er_decl_extra(d, "Process Type"), "B");
    ck_assert_str_eq(er_decl_extra(d, "Courier ID"), "");
    ck_assert_str_eq(er_decl_extra(&r.d[1], "Fraud"), "1");
    ck_assert_str_eq(er_decl_extra(&r.d[1], "Critical Fraud"), "2");
    fx_free(&r);

    /* the canonical header lacks the mapped required columns: whole-file error */
    fx_ingest(&r, H BASE, ".csv", m);
    ck_assert_int_eq(r.open_st, ER_EFORMAT);
    ck_assert_ptr_nonnull(strstr(r.err, ":1: missing required column 'Declaration ID' (mapped to id "
                                        "by mapping 'kcs-customs')"));
    er_mapping_free(m);
}
END_TEST

typedef struct mcase {
    const char *json;
    er_status st;
    const char *msg_tail;
} mcase;

static const mcase MCASES[] = {
    {"{\"fields\":{\"id\":\"A\",\"colour\":\"B\"}}", ER_EFORMAT,
     ": fields.colour: not a canonical field (see docs/feeds.md: id, date, flow, declarant, "
     "importer, exporter, hs, ...)"},
    {"{\"fields\":{\"id\":{\"column\":\"A\",\"value\":{}}}}", ER_EFORMAT,
     ": fields.id.value: unknown key (expected column, constant, values, optional or comment)"},
    {"{\"fields\":{\"mode\":{\"column\":\"M\",\"values\":{\"1\":2}}}}", ER_EFORMAT,
     ": fields.mode.values.1: expected a string"},
    {"{\"fields\":{\"id\":{}}}", ER_EFORMAT, ": fields.id: needs a \"column\" or a \"constant\""},
    {"{\"fields\":{\"id\":3}}", ER_EFORMAT,
     ": fields.id: expected a column name (string) or an object {\"column\", \"constant\", \"values\"}"},
    {"{\"format\":\"xml\",\"fields\":{}}", ER_EFORMAT, ": format: expected a feed format (csv, jsonl)"},
    {"{\"name\":\"x\"}", ER_EFORMAT, ": fields: missing (the canonical field → column table)"},
    {"{\"fields\":{},\"colour\":1}", ER_EFORMAT,
     ": colour: unknown key (expected name, format, description, source, extras, date_formats, delimiter, decimal, thousands, unknown_countries or fields)"},
    {"[1,2]", ER_EFORMAT, ": $: expected a JSON object"},
    {"{\"fields\":{\"unit\":{\"column\":\"U\",\"constant\":\"k\xffg\"}}}", ER_EFORMAT,
     ": fields.unit.constant: expected valid UTF-8 text"},
    {"{\"fields\":{\"mode\":{\"column\":\"M\",\"values\":{\"1\":\"SE\xc3\"}}}}", ER_EFORMAT,
     ": fields.mode.values.1: expected valid UTF-8 text"},
};

START_TEST(mapping_errors)
{
    const mcase *c = &MCASES[_i];
    const char *path = fx_tmpfile(c->json, strlen(c->json), ".json");
    er_mapping *m = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_mapping_load(&m, path, &err), c->st);
    ck_assert_ptr_null(m);
    char want[2048];
    snprintf(want, sizeof want, "%s%s", path, c->msg_tail);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(mapping_not_found)
{
    er_mapping *m = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_mapping_load(&m, "no-such-mapping", &err), ER_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown mapping 'no-such-mapping'"));
    ck_assert_int_eq(er_mapping_load(&m, "/nonexistent/m.json", &err), ER_ENOTFOUND);
    ck_assert_str_eq(err.msg, "/nonexistent/m.json: mapping file not found or unreadable");
    const char *bad = fx_tmpfile("{\"fields\":", 10, ".json");
    ck_assert_int_eq(er_mapping_load(&m, bad, &err), ER_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, ": not valid JSON"));
}
END_TEST

START_TEST(number_parser_is_exact)
{
    double v;
    ck_assert(er_parse_number("12.5", 4, &v) && v == 12.5);
    ck_assert(er_parse_number("0.1", 3, &v) && v == 0.1);
    ck_assert(er_parse_number("-0.0", 4, &v) && v == 0.0);
    ck_assert(er_parse_number("5.", 2, &v) && v == 5.0);
    ck_assert(er_parse_number("1E-2", 4, &v) && v == 0.01);
    ck_assert(er_parse_number("123456789012345678901234567890", 30, &v) &&
              v == 123456789012345678901234567890.0);
    ck_assert(!er_parse_number("", 0, &v));
    ck_assert(!er_parse_number(".", 1, &v));
    ck_assert(!er_parse_number("-", 1, &v));
    ck_assert(!er_parse_number("1e", 2, &v));
    ck_assert(!er_parse_number("1e+", 3, &v));
    ck_assert(!er_parse_number("1.2.3", 5, &v));
    ck_assert(!er_parse_number("12 ", 3, &v));
    ck_assert(!er_parse_number("Infinity", 8, &v));
    /* random decimals agree bit for bit with strtod */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 50000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char b[64];
        int n;
        switch (i % 5) {
        case 4: {   /* 1 to 17 digits, the dot anywhere (the parser's short path ends at 15) */
            unsigned nd = 1 + (unsigned)(x % 17), dot = (unsigned)((x >> 8) % (nd + 1));
            n = 0;
            for (unsigned k = 0; k < nd; k++) {
                if (k == dot && k)
                    b[n++] = '.';
                b[n++] = (char)('0' + (x >> (16 + 2 * k)) % 10);
            }
            b[n] = '\0';
            break;
        }
        case 0: n = snprintf(b, sizeof b, "%llu.%02llu", (unsigned long long)(x % 10000000),
                             (unsigned long long)((x >> 32) % 100)); break;
        case 1: n = snprintf(b, sizeof b, "%.17g", (double)(x >> 11) / 9007199254740992.0 * 1e6); break;
        case 2: n = snprintf(b, sizeof b, "%llue-%u", (unsigned long long)(x % 100000000000ULL),
                             (unsigned)((x >> 40) % 30)); break;
        default: n = snprintf(b, sizeof b, "%llu", (unsigned long long)x); break;
        }
        ck_assert_msg(er_parse_number(b, (size_t)n, &v), "%s", b);
        ck_assert_msg(v == strtod(b, NULL), "%s: %.17g vs %.17g", b, v, strtod(b, NULL));
    }
}
END_TEST

START_TEST(text_check)
{
    size_t at = 99;
    ck_assert_int_eq(er_text_check("plain ascii text, long enough", 29, &at), 0);
    ck_assert_int_eq(er_text_check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", 14, &at), 0);
    ck_assert_int_eq(er_text_check("abcdefgh\x80", 9, &at), 1);
    ck_assert_uint_eq(at, 8);
    ck_assert_int_eq(er_text_check("\xc0\xaf", 2, &at), 1);            /* overlong */
    ck_assert_int_eq(er_text_check("\xed\xa0\x80", 3, &at), 1);        /* surrogate */
    ck_assert_int_eq(er_text_check("\xf4\x90\x80\x80", 4, &at), 1);    /* > U+10FFFF */
    ck_assert_int_eq(er_text_check("\xe2\x82", 2, &at), 1);            /* truncated */
    ck_assert_int_eq(er_text_check("abcdefghij\0k", 12, &at), 2);
    ck_assert_uint_eq(at, 10);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *t = tcase_create("rules");
    tcase_add_test(t, accepts_base_row);
    tcase_add_test(t, normalises_codes);
    tcase_add_test(t, trims_values_at_field_edges);
    tcase_add_loop_test(t, rejects_with_exact_reason, 0, (int)(sizeof CASES / sizeof CASES[0]));
    tcase_add_test(t, description_limit_and_nul);
    tcase_add_test(t, duplicates_and_date_filter);
    tcase_add_test(t, extras_and_label_field);
    tcase_add_test(t, kcs_mapping);
    tcase_add_loop_test(t, mapping_errors, 0, (int)(sizeof MCASES / sizeof MCASES[0]));
    tcase_add_test(t, mapping_not_found);
    tcase_add_test(t, number_parser_is_exact);
    tcase_add_test(t, text_check);
    suite_add_tcase(s, t);
    return s;
}
