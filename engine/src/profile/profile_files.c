/*
 * profile_files.c — the files profile loading reads: whole-file reads with a
 * size limit, the JSON parser (a syntax error becomes a lint message with
 * line and column), the expansion of pack arguments (files, or folders of
 * *.json in name order) and the folder a pack's lists/ sit beside.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profile/profile_build.h"

er_status read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? ER_ENOTFOUND : ER_EIO;
    er_status st = ER_OK;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    if (!b) {
        st = ER_ENOMEM;
        goto cleanup;
    }
    for (;;) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f))
                st = ER_EIO;
            break;
        }
        if (cap > (64u << 20)) {
            st = ER_ELIMIT;
            break;
        }
        char *nb = realloc(b, cap * 2 + 1);
        if (!nb) {
            st = ER_ENOMEM;
            break;
        }
        b = nb;
        cap *= 2;
    }
    if (st == ER_OK) {
        b[n] = '\0';
        *buf = b;
        *len = n;
        b = NULL;
    }
cleanup:
    free(b);
    fclose(f);
    return st;
}

void hash_in(er_profileset *s, const char *data, size_t len)
{
    s->hash = er_hash64(data, len, s->hash);
}

/* Parse JSON text; on error records a lint message with line:column. */
json_object *parse_json(er_profileset *s, const char *file, const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text, (int)(len > 0x7fffffff ? 0x7fffffff : len));
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    if (!j && e == json_tokener_continue)
        e = json_tokener_error_parse_eof;
    if (j && e == json_tokener_success) {
        /* trailing garbage after the document */
        for (size_t i = off; i < len; i++)
            if (!isspace((unsigned char)text[i])) {
                json_object_put(j);
                j = NULL;
                e = json_tokener_error_parse_unexpected;
                off = i;
                break;
            }
    }
    if (!j || e != json_tokener_success) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        lint_file(s, ER_LINT_ERROR, file, "", "invalid JSON at line %zu, column %zu: %s (expected a JSON document)",
                  line, col, json_tokener_error_desc(e));
        if (j)
            json_object_put(j);
        j = NULL;
    }
    json_tokener_free(tok);
    return j;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand paths (files or directories of *.json) into a sorted file list. */
er_status expand(er_profileset *s, const char *const *paths, size_t n_paths, char ***out, size_t *n_out,
                        er_err *err)
{
    char **files = NULL;
    size_t n = 0, cap = 0;
    er_status st = ER_OK;
    for (size_t i = 0; i < n_paths; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0) {
            lint_file(s, ER_LINT_ERROR, adup(s, paths[i]), "", "cannot open: %s", strerror(errno));
            st = er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", paths[i], strerror(errno));
            goto cleanup;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(paths[i]);
            if (!d) {
                lint_file(s, ER_LINT_ERROR, adup(s, paths[i]), "", "cannot open directory: %s", strerror(errno));
                st = er_errf(err, ER_EIO, "%s: cannot open directory: %s", paths[i], strerror(errno));
                goto cleanup;
            }
            size_t first = n;
            struct dirent *de;
            while ((de = readdir(d)) != NULL) {
                size_t l = strlen(de->d_name);
                if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
                    continue;
                if (!GROW(files, n, cap, n + 1)) {
                    closedir(d);
                    st = ER_ENOMEM;
                    goto cleanup;
                }
                size_t pl = strlen(paths[i]);
                files[n] = malloc(pl + l + 2);
                if (!files[n]) {
                    closedir(d);
                    st = ER_ENOMEM;
                    goto cleanup;
                }
                snprintf(files[n], pl + l + 2, "%s%s%s", paths[i], paths[i][pl - 1] == '/' ? "" : "/", de->d_name);
                n++;
            }
            closedir(d);
            qsort(files + first, n - first, sizeof *files, cmp_cstr);
        } else {
            if (!GROW(files, n, cap, n + 1) || !(files[n] = strdup(paths[i]))) {
                st = ER_ENOMEM;
                goto cleanup;
            }
            n++;
        }
    }
cleanup:
    if (st != ER_OK) {
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        files = NULL;
        n = 0;
    }
    *out = files;
    *n_out = n;
    return st;
}

char *dir_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return strdup(path);
    const char *sl = strrchr(path, '/');
    if (!sl)
        return strdup(".");
    size_t n = (size_t)(sl - path);
    char *d = malloc(n + 2);
    if (!d)
        return NULL;
    memcpy(d, path, n ? n : 1);
    d[n ? n : 1] = '\0';
    return d;
}
