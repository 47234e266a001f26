// Known-bad archive for cmake/check_symbols.cmake: references libvirt and SQLite symbols
// (declared here, never defined: the archive is never linked into anything).
extern "C" int virConnectNumOfDomains(void* conn);
extern "C" int sqlite3_open(const char* path, void** db);

int layering_bad_fixture(void* p) { return virConnectNumOfDomains(p) + sqlite3_open("x", &p); }
