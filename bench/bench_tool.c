/* Set-up and clean-up for the benchmark, over one libvirt connection (no virsh processes).
 *
 *   vmr-bench-tool undefine PREFIX [URI]   destroy (when running) and then undefine every
 *                                          domain whose name starts with PREFIX; prints the
 *                                          count (a domain that cannot be destroyed is not
 *                                          undefined: it would run on as a transient domain)
 *   vmr-bench-tool define DIR [URI]        define every *.xml file in DIR (sorted), serially
 *   vmr-bench-tool count PREFIX [URI]      print how many domains start with PREFIX
 *   vmr-bench-tool running PREFIX [URI]    print how many of those are active
 */
#include <dirent.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int by_name(const void* a, const void* b) {
    return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static char* slurp(const char* path) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return NULL;
    }
    char* buf = malloc((size_t)st.st_size + 1);
    size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[got] = 0;
    return buf;
}

static int do_define(virConnectPtr conn, const char* dir) {
    DIR* d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bench_tool: cannot open %s\n", dir);
        return 1;
    }
    size_t cap = 1024, n = 0;
    char** names = malloc(cap * sizeof *names);
    for (struct dirent* e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0) continue;
        if (n == cap) names = realloc(names, (cap *= 2) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    int failed = 0;
    for (size_t i = 0; i < n; ++i) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char* xml = slurp(path);
        virDomainPtr dom = xml ? virDomainDefineXML(conn, xml) : NULL;
        if (!dom) {
            fprintf(stderr, "bench_tool: cannot define %s\n", path);
            ++failed;
        } else {
            virDomainFree(dom);
        }
        free(xml);
        free(names[i]);
    }
    free(names);
    printf("defined %zu domains, %d failed\n", n - (size_t)failed, failed);
    return failed ? 1 : 0;
}

enum prefix_op { COUNT, RUNNING, UNDEFINE };

static int do_prefix(virConnectPtr conn, const char* prefix, enum prefix_op op) {
    virDomainPtr* doms = NULL;
    int n =
        virConnectListAllDomains(conn, &doms, op == RUNNING ? VIR_CONNECT_LIST_DOMAINS_ACTIVE : 0);
    if (n < 0) {
        fprintf(stderr, "bench_tool: cannot list domains\n");
        return 1;
    }
    int count = 0, destroyed = 0, failed = 0;
    for (int i = 0; i < n; ++i) {
        const char* name = virDomainGetName(doms[i]);
        if (name && strncmp(name, prefix, strlen(prefix)) == 0) {
            ++count;
            if (op == UNDEFINE) {
                int persistent = virDomainIsPersistent(doms[i]) == 1;
                if (virDomainIsActive(doms[i]) == 1) {
                    if (virDomainDestroy(doms[i]) < 0 && virDomainIsActive(doms[i]) == 1) {
                        fprintf(stderr, "bench_tool: cannot destroy %s, left defined\n", name);
                        ++failed;
                        virDomainFree(doms[i]);
                        continue;
                    }
                    ++destroyed;
                }
                if (!persistent) { /* a transient domain is gone once destroyed */
                    virDomainFree(doms[i]);
                    continue;
                }
                unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                 VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                 VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM;
                if (virDomainUndefineFlags(doms[i], flags) < 0) ++failed;
            }
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    if (op == UNDEFINE)
        printf("undefined %d domains named %s* (%d destroyed first), %d failed\n", count - failed,
               prefix, destroyed, failed);
    else
        printf("%d\n", count);
    return failed ? 1 : 0;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s undefine|count|running PREFIX [URI] | define DIR [URI]\n",
                argv[0]);
        return 2;
    }
    const char* uri = argc > 3 ? argv[3] : "qemu:///system";
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        fprintf(stderr, "bench_tool: cannot connect to %s\n", uri);
        return 1;
    }
    int rc = 2;
    if (strcmp(argv[1], "undefine") == 0)
        rc = do_prefix(conn, argv[2], UNDEFINE);
    else if (strcmp(argv[1], "count") == 0)
        rc = do_prefix(conn, argv[2], COUNT);
    else if (strcmp(argv[1], "running") == 0)
        rc = do_prefix(conn, argv[2], RUNNING);
    else if (strcmp(argv[1], "define") == 0)
        rc = do_define(conn, argv[2]);
    else
        fprintf(stderr, "bench_tool: unknown command %s\n", argv[1]);
    virConnectClose(conn);
    return rc;
}
