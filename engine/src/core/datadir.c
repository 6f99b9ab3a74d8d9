/*
 * datadir.c — the one lookup of the shipped data folders (see data.h for
 * the search order). Each kind is one row: its environment variable, its
 * folder under a home (installed layout), its folder in the source tree.
 */
#include "ecorisk/data.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct kind_row {
    const char *env, *sub, *src, *what;
} kind_row;

static const kind_row kinds[] = {
    [ER_DATA_PROFILES]  = {"ECORISK_PROFILES", "profiles", ECORISK_SOURCE_DIR "/profiles", "profile packs"},
    [ER_DATA_MAPPINGS]  = {"ECORISK_MAPPINGS", "mappings", ECORISK_SOURCE_DIR "/feeds/mappings", "mappings"},
    [ER_DATA_REFERENCE] = {"ECORISK_REFERENCE", "reference", ECORISK_SOURCE_DIR "/feeds/reference", "reference data"},
};

static char fallback_home[4096];

void er_data_set_home(const char *dir)
{
    snprintf(fallback_home, sizeof fallback_home, "%s", dir ? dir : "");
}

/* Does dir (and dir/file) exist? */
static bool usable(const char *dir, const char *file)
{
    struct stat sb;
    char p[4096 + 256];
    if (!dir || !*dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return false;
    if (!file)
        return true;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, file) >= sizeof p)
        return false;
    return access(p, R_OK) == 0;
}

er_status er_data_find(er_data_kind kind, const char *file, char *out, size_t cap, er_err *err)
{
    const kind_row *k = &kinds[kind];
    const char *home = getenv("ECORISK_HOME");
    char home_sub[4096 + 16] = "";
    if (!home || !*home)
        home = fallback_home;
    if (*home)
        snprintf(home_sub, sizeof home_sub, "%s/%s", home, k->sub);
    const char *cands[4] = {getenv(k->env), home_sub, k->src, ECORISK_DATADIR "/"};
    char installed[4096];
    snprintf(installed, sizeof installed, "%s/%s", ECORISK_DATADIR, k->sub);
    cands[3] = installed;
    for (int i = 0; i < 4; i++) {
        if (!usable(cands[i], file))
            continue;
        if ((size_t)snprintf(out, cap, "%s", cands[i]) >= cap)
            return er_errf(err, ER_ELIMIT, "%s folder path too long: %s", k->what, cands[i]);
        return ER_OK;
    }
    return er_errf(err, ER_ENOTFOUND, "%s%s%s not found (searched $%s, %s%s, %s, %s; set %s or ECORISK_HOME)",
                   k->what, file ? " file " : "", file ? file : "", k->env,
                   *home ? home_sub : "$ECORISK_HOME/", *home ? "" : k->sub, k->src, installed, k->env);
}
