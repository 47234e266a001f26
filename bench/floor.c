/* The floor: the bare cost of reading a host's domain configurations.
 * Opens one connection, lists every domain and fetches each one's inactive XML, serially,
 * doing nothing else. Prints how many domains and bytes it read.
 *
 *   vmr-bench-floor [URI]      (default qemu:///system)
 */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    const char* uri = argc > 1 ? argv[1] : "qemu:///system";
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        fprintf(stderr, "floor: cannot connect to %s\n", uri);
        return 1;
    }
    virDomainPtr* doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0) {
        fprintf(stderr, "floor: cannot list domains\n");
        virConnectClose(conn);
        return 1;
    }
    unsigned long long bytes = 0;
    int failed = 0;
    for (int i = 0; i < n; ++i) {
        char* xml = virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE);
        if (xml) {
            bytes += strlen(xml);
            free(xml);
        } else {
            ++failed;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    virConnectClose(conn);
    printf("floor: %d domains, %llu bytes of inactive XML, %d failed\n", n, bytes, failed);
    return failed ? 1 : 0;
}
