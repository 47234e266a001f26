// Live-only stripping: removes what libvirt adds to an object's XML at run time (or reports as
// current figures) and that must never be compared with, or stored as, desired state.
//
// Every rule below was found by diffing `virsh dumpxml` against `virsh dumpxml --inactive` of a
// running guest on libvirt 9.0 / QEMU 7.2 (fixtures: tests/data/live/*.xml) unless its comment
// says it comes from libvirt's documentation. The functions are safe on inactive XML too: every
// rule matches only values libvirt generates, never ones a user can configure.
#include <pugixml.hpp>
#include <string_view>
#include <vector>

#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
#include "virtumancer/xml_string.hpp"

namespace virtumancer {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

pugi::xml_document parse(const std::string& xml, const char* kind) {
    pugi::xml_document doc;
    auto r = doc.load_string(xml.c_str(), pugi::parse_default);
    if (!r)
        throw Error(std::string("cannot parse ") + kind + " XML from libvirt: " + r.description() +
                        " at offset " + std::to_string(r.offset),
                    "check the object with virsh dumpxml; report the output if it is not XML");
    return doc;
}

std::string render(const pugi::xml_document& doc) {
    return xml_document_string(doc, "  ", pugi::format_default);
}

bool empty_element(pugi::xml_node n) {
    return !n.first_attribute() && !n.first_child();
}

void remove_children(pugi::xml_node parent, const char* name) {
    while (auto c = parent.child(name)) parent.remove_child(c);
}

// <resource><partition>/machine</partition></resource>: the default cgroup partition the QEMU
// driver fills in at start. (Cost: a config that names /machine explicitly reads as having no
// <resource>; that is the default anyway.)
void strip_default_resource(pugi::xml_node dom) {
    auto res = dom.child("resource");
    if (!res || res.first_attribute()) return;
    auto part = res.child("partition");
    if (!part || part.next_sibling() || part.previous_sibling()) return;
    if (std::string_view(part.child_value()) == "/machine") dom.remove_child(res);
}

// <alias name='virtio-disk0'/>, 'net0', 'pci.0', ...: assigned by libvirt at start. User aliases
// carry the "ua-" prefix and are config; they are kept.
// (A plain walk: an XPath `.//alias` compiled its query for every observed domain.)
void collect_aliases(pugi::xml_node n, std::vector<pugi::xml_node>& out) {
    for (auto c = n.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (std::string_view(c.name()) == "alias") {
            if (!starts_with(c.attribute("name").value(), "ua-")) out.push_back(c);
        } else {
            collect_aliases(c, out);
        }
    }
}

void strip_aliases(pugi::xml_node dom) {
    std::vector<pugi::xml_node> found;
    collect_aliases(dom, found);
    for (auto n : found) n.parent().remove_child(n);
}

// <seclabel type='dynamic' model='dac' relabel='yes'><label>+0:+0</label><imagelabel>...: the
// labels the security drivers generated at start. For a static label with relabel='yes' only the
// <imagelabel> is generated (libvirt documentation; not seen in the fixtures).
void strip_seclabels(pugi::xml_node dom) {
    for (auto s = dom.child("seclabel"); s;) {
        auto next = s.next_sibling("seclabel");
        if (std::string_view(s.attribute("type").value()) == "dynamic")
            dom.remove_child(s);
        else
            remove_children(s, "imagelabel");
        s = next;
    }
}

// A run-time detected backing chain: <backingStore/> (the image has no backing file), or a
// chain element whose <source> carries an @index. A chain the user wrote has no index.
bool detected_backing_store(pugi::xml_node b) {
    return empty_element(b) || b.child("source").attribute("index");
}

void strip_disk(pugi::xml_node disk) {
    disk.child("source").remove_attribute("index"); // node index of the running blockdev graph
    for (auto b = disk.child("backingStore"); b;) {
        auto next = b.next_sibling("backingStore");
        if (detected_backing_store(b)) disk.remove_child(b);
        b = next;
    }
}

void strip_interface(pugi::xml_node nic) {
    // <target dev='vnet1'/>: the tap device libvirt created (macvtapN for type='direct').
    if (auto t = nic.child("target")) {
        auto dev = t.attribute("dev");
        if (dev && (starts_with(dev.value(), "vnet") || starts_with(dev.value(), "macvtap")))
            t.remove_attribute(dev);
        if (empty_element(t)) nic.remove_child(t);
    }
    auto src = nic.child("source");
    src.remove_attribute("portid"); // the network port created at start
    // type='network': the bridge the network resolved to at start (config names the network).
    if (std::string_view(nic.attribute("type").value()) == "network")
        src.remove_attribute("bridge");
    remove_children(nic, "actual"); // status-XML only (libvirt documentation); never config
}

// serial, console, parallel, channel.
void strip_chardev(pugi::xml_node dev) {
    std::string_view type = dev.attribute("type").value();
    if (type == "pty") {
        // <source path='/dev/pts/0'/> and console @tty: the pty allocated at start.
        remove_children(dev, "source");
        dev.remove_attribute("tty");
    }
    if (type == "unix") {
        // A channel without a configured path gets a generated socket under this directory.
        auto src = dev.child("source");
        if (starts_with(src.attribute("path").value(), "/var/lib/libvirt/qemu/channel/target/"))
            dev.remove_child(src);
    }
    dev.child("target").remove_attribute("state"); // guest agent connected/disconnected
}

void strip_graphics(pugi::xml_node g) {
    // autoport='yes': @port (and SPICE @tlsPort) are the ports picked at start; the inactive XML
    // says port='-1', which means the same as no port.
    if (std::string_view(g.attribute("autoport").value()) == "yes") {
        g.remove_attribute("port");
        g.remove_attribute("tlsPort");
        // websocket='-1' (auto) reads as the picked port, e.g. websocket='5700', when running
        // (seen on libvirt 9.0). Normalised back to -1. (Cost: a fixed websocket port combined
        // with autoport='yes' also reads as -1.)
        auto ws = g.attribute("websocket");
        if (ws && ws.as_int() > 0) ws.set_value("-1");
    }
    // <listen type='network' network='x' address='...'/>: the address is resolved from the
    // network at start (libvirt documentation; not in the fixtures).
    for (auto l : g.children("listen"))
        if (std::string_view(l.attribute("type").value()) == "network")
            l.remove_attribute("address");
}

} // namespace

std::string strip_live_only_domain(const std::string& xml) {
    auto doc = parse(xml, "domain");
    auto dom = doc.child("domain");
    if (!dom) return xml;
    dom.remove_attribute("id"); // the running instance's number
    strip_default_resource(dom);
    strip_aliases(dom);
    strip_seclabels(dom);
    auto devices = dom.child("devices");
    for (auto d : devices.children()) {
        std::string_view n = d.name();
        if (n == "disk")
            strip_disk(d);
        else if (n == "interface")
            strip_interface(d);
        else if (n == "serial" || n == "console" || n == "parallel" || n == "channel")
            strip_chardev(d);
        else if (n == "graphics")
            strip_graphics(d);
    }
    return render(doc);
}

// capacity/allocation/available: current figures of the pool's storage, not configuration.
std::string strip_live_only_pool(const std::string& xml) {
    auto doc = parse(xml, "pool");
    auto pool = doc.child("pool");
    if (!pool) return xml;
    for (const char* n : {"capacity", "allocation", "available"}) remove_children(pool, n);
    return render(doc);
}

// key (derived from the path), allocation and physical (bytes in use now), and
// target/timestamps (file times) change without any configuration change. capacity is the
// volume's size, which a spec asks for, so it stays; so do format and permissions.
std::string strip_live_only_volume(const std::string& xml) {
    auto doc = parse(xml, "volume");
    auto vol = doc.child("volume");
    if (!vol) return xml;
    for (const char* n : {"key", "allocation", "physical"}) remove_children(vol, n);
    remove_children(vol.child("target"), "timestamps");
    remove_children(vol.child("backingStore"), "timestamps");
    return render(doc);
}

// <network connections='1'>: the number of guest interfaces using the network right now.
std::string strip_live_only_network(const std::string& xml) {
    auto doc = parse(xml, "network");
    auto net = doc.child("network");
    if (!net) return xml;
    net.remove_attribute("connections");
    return render(doc);
}

} // namespace virtumancer
