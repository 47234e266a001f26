/* The floor: the bare cost of reading a host's domain definitions.
 * Opens one connection, lists every domain and fetches each one's inactive XML, then lists
 * the active domains and fetches each one's live XML (what `plan` reads too since it compares
 * running domains with their live definition), serially, doing nothing else. Prints how many
 * domains and bytes it read.
 *
 *   vmr-bench-floor [URI]      (default qemu:///system)
 */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fetches the XML of each of the n domains with flags; adds the bytes, frees the domains. */
static int fetch_all(virDomainPtr* doms, int n, unsigned flags, unsigned long long* bytes) {
    int failed = 0;
    for (int i = 0; i < n; ++i) {
        char* xml = virDomainGetXMLDesc(doms[i], flags);
        if (xml) {
            *bytes += strlen(xml);
            free(xml);
        } else {
            ++failed;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return failed;
}

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
    unsigned long long bytes = 0, live_bytes = 0;
    int failed = fetch_all(doms, n, VIR_DOMAIN_XML_INACTIVE, &bytes);
    /* The running ones: one more list call (as plan learns which are active from its list
     * calls, not one RPC per domain), then the live XML of each. */
    virDomainPtr* active = NULL;
    int a = virConnectListAllDomains(conn, &active, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (a < 0) {
        fprintf(stderr, "floor: cannot list the active domains\n");
        virConnectClose(conn);
        return 1;
    }
    int live_failed = fetch_all(active, a, 0, &live_bytes);
    virConnectClose(conn);
    printf("floor: %d domains, %llu bytes of inactive XML, %d failed; %d active, %llu bytes of "
           "live XML, %d failed\n",
           n, bytes, failed, a, live_bytes, live_failed);
    return failed || live_failed ? 1 : 0;
}
