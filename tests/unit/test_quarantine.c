/*
 * test_quarantine.c — quarantine records as JSON Lines: exact bytes, JSON
 * escaping, and U+FFFD for invalid UTF-8 so the file always parses.
 */
#include "check_main.h"
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/quarantine.h"

static char *render(const er_qrecord *q)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    er_err err = {{0}};
    ck_assert_int_eq(er_quarantine_write(f, q, &err), ER_OK);
    fclose(f);
    return buf;
}

START_TEST(exact_record)
{
    er_qrecord q = {"day.csv", 12, 10, ER_Q_BAD_HS, "hs", "hs: '01' is not a 6 to 10 digit HS code",
                    "A1,2026-01-05,01", 0};
    char *s = render(&q);
    ck_assert_str_eq(s, "{\"file\":\"day.csv\",\"line\":12,\"seq\":10,\"reason\":\"bad_hs\",\"field\":\"hs\","
                        "\"detail\":\"hs: '01' is not a 6 to 10 digit HS code\",\"excerpt\":\"A1,2026-01-05,01\"}\n");
    free(s);
    er_qrecord q2 = {"-", 1, 0, ER_Q_SYNTAX, NULL, "x", NULL, 0};
    s = render(&q2);
    ck_assert_str_eq(s, "{\"file\":\"-\",\"line\":1,\"seq\":0,\"reason\":\"syntax\",\"field\":null,"
                        "\"detail\":\"x\",\"excerpt\":null}\n");
    free(s);
    /* a NUL byte in the record is escaped, not the end of the excerpt */
    er_qrecord q3 = {"n.csv", 2, 0, ER_Q_BAD_NUMBER, "net_kg", "d", "A1,5\0XYZ", 8};
    s = render(&q3);
    ck_assert_str_eq(s, "{\"file\":\"n.csv\",\"line\":2,\"seq\":0,\"reason\":\"bad_number\",\"field\":\"net_kg\","
                        "\"detail\":\"d\",\"excerpt\":\"A1,5\\u0000XYZ\"}\n");
    free(s);
}
END_TEST

START_TEST(escaping)
{
    er_qrecord q = {"a\"b\\c.csv", 1, 0, ER_Q_BAD_UTF8, "note",
                    "tab\there\nnew \x01 \x7f caf\xc3\xa9",
                    "bad \xff\xfe cut \xe2\x82 ok \xf0\x9f\x90\x8d \xed\xa0\x80", 0};
    char *s = render(&q);
    ck_assert_str_eq(s, "{\"file\":\"a\\\"b\\\\c.csv\",\"line\":1,\"seq\":0,\"reason\":\"bad_utf8\","
                        "\"field\":\"note\",\"detail\":\"tab\\there\\nnew \\u0001 \\u007f caf\xc3\xa9\","
                        "\"excerpt\":\"bad \xef\xbf\xbd\xef\xbf\xbd cut \xef\xbf\xbd\xef\xbf\xbd ok "
                        "\xf0\x9f\x90\x8d \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}\n");
    json_object *o = json_tokener_parse(s);
    ck_assert_ptr_nonnull(o);
    json_object *f;
    ck_assert(json_object_object_get_ex(o, "file", &f));
    ck_assert_str_eq(json_object_get_string(f), "a\"b\\c.csv");
    json_object_put(o);
    free(s);
}
END_TEST

/* An excerpt keeps the bytes after a NUL: the batch records its length and
 * the writer escapes the NUL as \u0000. */
START_TEST(excerpt_with_nul)
{
    er_batch *b = NULL;
    er_err err;
    ck_assert_int_eq(er_batch_new(&b, 16, &err), ER_OK);
    static const char raw[] = "A1,\0x,9";
    ck_assert_int_eq(er_batch_quarantine(b, "f.csv", 3, 2, ER_Q_BAD_UTF8, "hs", raw, sizeof raw - 1,
                                         "hs: NUL byte"), ER_OK);
    ck_assert_uint_eq(b->quarantined[0].excerpt_len, 7);
    char *s = render(&b->quarantined[0]);
    ck_assert_str_eq(s, "{\"file\":\"f.csv\",\"line\":3,\"seq\":2,\"reason\":\"bad_utf8\","
                        "\"field\":\"hs\",\"detail\":\"hs: NUL byte\",\"excerpt\":\"A1,\\u0000x,9\"}\n");
    free(s);
    er_batch_free(b);
}
END_TEST

START_TEST(batch_in_order)
{
    er_batch *b = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_batch_new(&b, 16, &err), ER_OK);
    ck_assert_int_eq(er_batch_quarantine(b, "f", 2, 0, ER_Q_NEGATIVE, "net_kg", "r1", 2, "n=%d", -1), ER_OK);
    ck_assert_int_eq(er_batch_quarantine(b, "f", 3, 1, ER_Q_BAD_DATE, "date", NULL, 0, "d"), ER_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(er_quarantine_write_batch(f, b, &err), ER_OK);
    fclose(f);
    ck_assert_str_eq(buf, "{\"file\":\"f\",\"line\":2,\"seq\":0,\"reason\":\"negative\",\"field\":\"net_kg\","
                          "\"detail\":\"n=-1\",\"excerpt\":\"r1\"}\n"
                          "{\"file\":\"f\",\"line\":3,\"seq\":1,\"reason\":\"bad_date\",\"field\":\"date\","
                          "\"detail\":\"d\",\"excerpt\":null}\n");
    free(buf);
    er_batch_free(b);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("quarantine");
    TCase *t = tcase_create("quarantine");
    tcase_add_test(t, exact_record);
    tcase_add_test(t, escaping);
    tcase_add_test(t, excerpt_with_nul);
    tcase_add_test(t, batch_in_order);
    suite_add_tcase(s, t);
    return s;
}
