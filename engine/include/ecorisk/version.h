/*
 * version.h — the version of libecorisk this header belongs to. The build
 * reads the numbers from here (CMakeLists.txt), so this file is the one place
 * a release changes. er_version() gives the version of the library actually
 * linked, for programs that want to check header and library agree.
 */
#ifndef ECORISK_VERSION_H
#define ECORISK_VERSION_H

#define ECORISK_VERSION_MAJOR 0
#define ECORISK_VERSION_MINOR 1
#define ECORISK_VERSION_PATCH 0
#define ECORISK_VERSION "0.1.0"
/* One comparable number: 0x00MMmmpp. */
#define ECORISK_VERSION_NUM ((ECORISK_VERSION_MAJOR << 16) | (ECORISK_VERSION_MINOR << 8) | ECORISK_VERSION_PATCH)

#endif
