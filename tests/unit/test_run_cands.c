/*
 * test_run_cands.c — the run's top-up candidates kept as compact declaration
 * copies (engine/src/score/run_cands.c): a declaration with every string,
 * extras and a document check comes back field for field, absent strings stay
 * absent, and every truncation or a trailing byte of a packed record is
 * refused instead of read past its end.
 */
#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "score/run_impl.h"

static void fill(er_batch **bp, er_decl **dp, er_doccheck *docs, er_extra *extra)
{
    er_err err = {{0}};
    ck_assert_int_eq(er_batch_new(bp, 4, &err), ER_OK);
    er_decl *d = er_batch_push(*bp);
    d->id = "26FR0001";
    d->date = 20781;
    d->flow = 1;
    d->mode = 2;
    strcpy(d->hs, "440349");
    d->hs_len = 6;
    strcpy(d->currency, "EUR");
    d->origin = 1;
    d->n_transit = 2;
    d->transit[0] = 3;
    d->transit[1] = 4;
    d->importer = "IMP 1";
    d->exporter = "";
    d->description = "Rosewood logs, \"kosso\"; dismantled";
    d->office = "FRLEH";
    d->unit = "KGM";
    d->permits = "FR-24-0012;FR-24-0013";
    d->net_kg = 12000.5;
    d->value = 3100.25;
    d->line = 42;
    d->seq = 40;
    extra[0] = (er_extra){"cites_permit", "none"};
    extra[1] = (er_extra){"vessel", NULL};
    d->extra = extra;
    d->n_extra = 2;
    memset(docs, 0, sizeof *docs);
    docs->state[0] = 5;
    docs->evidence[0] = "permit FR-24-0012: 40 of 50 kg already used";
    docs->substance = "HCFC-22";
    docs->odp_t = 0.055;
    docs->co2e_t = 1810;
    docs->cites_appendix = 2;
    strcpy(docs->basel_code, "B3011");
    d->docs = docs;
    *dp = d;
}

static void same_str(const char *a, const char *b)
{
    if (!a || !b)
        ck_assert_ptr_eq(a, b);
    else
        ck_assert_str_eq(a, b);
}

START_TEST(packed_declaration_comes_back)
{
    er_batch *b;
    er_decl *d, u;
    er_doccheck docs, udocs;
    er_extra extra[2], *uextra = NULL;
    er_sb sb = {0};
    fill(&b, &d, &docs, extra);
    size_t len = cand_pack(&sb, d);
    ck_assert_uint_eq(len, sb.len);
    ck_assert_int_eq(cand_unpack(sb.p, sb.len, &u, &uextra, &udocs), ER_OK);
    same_str(u.id, d->id);
    ck_assert_int_eq(u.date, d->date);
    ck_assert_str_eq(u.hs, "440349");
    ck_assert_str_eq(u.currency, "EUR");
    ck_assert_uint_eq(u.n_transit, 2);
    ck_assert_uint_eq(u.transit[1], 4);
    same_str(u.importer, "IMP 1");
    same_str(u.exporter, "");
    ck_assert_ptr_null(u.declarant);
    ck_assert_ptr_null(u.container);
    ck_assert_ptr_null(u.licences);
    same_str(u.description, d->description);
    same_str(u.permits, d->permits);
    ck_assert_double_eq(u.net_kg, 12000.5);
    ck_assert_double_eq(u.value, 3100.25);
    ck_assert_uint_eq(u.line, 42);
    ck_assert_uint_eq(u.seq, 40);
    ck_assert_uint_eq(u.n_extra, 2);
    same_str(u.extra[0].name, "cites_permit");
    same_str(u.extra[0].value, "none");
    ck_assert_ptr_null(u.extra[1].value);
    ck_assert_ptr_eq(u.docs, &udocs);
    ck_assert_uint_eq(udocs.state[0], 5);
    same_str(udocs.evidence[0], docs.evidence[0]);
    ck_assert_ptr_null(udocs.evidence[1]);
    same_str(udocs.substance, "HCFC-22");
    ck_assert_double_eq(udocs.odp_t, 0.055);
    ck_assert_double_eq(udocs.co2e_t, 1810);
    ck_assert_uint_eq(udocs.cites_appendix, 2);
    ck_assert_str_eq(udocs.basel_code, "B3011");
    free(uextra);

    /* no document check, no extras */
    d->docs = NULL;
    d->n_extra = 0;
    d->extra = NULL;
    er_sb_reset(&sb);
    cand_pack(&sb, d);
    uextra = NULL;
    ck_assert_int_eq(cand_unpack(sb.p, sb.len, &u, &uextra, &udocs), ER_OK);
    ck_assert_ptr_null(u.docs);
    ck_assert_ptr_null(uextra);
    er_sb_free(&sb);
    er_batch_free(b);
}
END_TEST

START_TEST(damaged_record_is_refused)
{
    er_batch *b;
    er_decl *d, u;
    er_doccheck docs, udocs;
    er_extra extra[2], *uextra;
    er_sb sb = {0};
    fill(&b, &d, &docs, extra);
    cand_pack(&sb, d);
    for (size_t n = 0; n < sb.len; n++) {   /* every truncation */
        char *copy = malloc(n ? n : 1);
        memcpy(copy, sb.p, n);
        uextra = NULL;
        ck_assert_msg(cand_unpack(copy, n, &u, &uextra, &udocs) == ER_EINTERNAL, "truncated to %zu bytes", n);
        free(uextra);
        free(copy);
    }
    er_sb_putc(&sb, 'x');   /* a byte after the record */
    uextra = NULL;
    ck_assert_int_eq(cand_unpack(sb.p, sb.len, &u, &uextra, &udocs), ER_EINTERNAL);
    free(uextra);
    er_sb_free(&sb);
    er_batch_free(b);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("run_cands");
    TCase *tc = tcase_create("run_cands");
    tcase_add_test(tc, packed_declaration_comes_back);
    tcase_add_test(tc, damaged_record_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
