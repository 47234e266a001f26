#!/usr/bin/env bash
# make_guest.sh OUTDIR - a tiny Linux guest for the real-guest e2e tests: OUTDIR/vmlinuz (from
# Debian's linux-image-amd64, extracted from its .deb without installing it) and
# OUTDIR/initrd.img (busybox-static, the few kernel modules a TCG guest needs, an /init that
# prints the user-data of a `cidata` device to the serial console and runs udhcpc on eth0,
# unless the kernel command line has `vmr.nodhcp`). Lines it prints start with "vmr-guest:".
#
# The .deb and its extracted tree are cached in $VIRTUMANCER_GUEST_CACHE (default
# /var/tmp/virtumancer-guest); nothing is installed. Needs: apt-get, dpkg-deb, busybox (package
# busybox-static, installed by scripts/testenv.sh), gzip.
set -euo pipefail
out=${1:?usage: make_guest.sh OUTDIR}
cache=${VIRTUMANCER_GUEST_CACHE:-/var/tmp/virtumancer-guest}
bb=$(command -v busybox) || { echo "make_guest: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$cache" "$out"

# 1. the kernel package (linux-image-amd64 depends on the versioned package holding the files);
#    a tree extracted before is used as it is (apt-cache is slow; any recent kernel will do).
tree=$(ls -d "$cache"/linux-image-*-amd64 2>/dev/null | sort -V | tail -1 || true)
if [[ -z $tree || ! -d $tree/boot ]]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [[ -n $pkg ]] || { echo "make_guest: apt-cache knows no linux-image-amd64 (apt-get update?)" >&2; exit 1; }
  tree=$cache/$pkg
  deb=$(ls "$cache"/"$pkg"_*.deb 2>/dev/null | head -1 || true)
  if [[ -z $deb ]]; then
    (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "make_guest: apt-get download $pkg failed" >&2; exit 1; }
    deb=$(ls "$cache"/"$pkg"_*.deb | head -1)
  fi
  rm -rf "$tree.tmp" && mkdir -p "$tree.tmp"
  dpkg-deb -x "$deb" "$tree.tmp" && rm -f "$deb"
  mv "$tree.tmp" "$tree"
fi
pkg=${tree##*/}
kver=$(ls "$tree/lib/modules" | head -1)
# Built before from the same kernel by this same script: nothing to do.
stamp="$kver $(sha256sum <"$0" | cut -c1-16)"
if [[ -f $out/initrd.img && -f $out/vmlinuz && $(cat "$out/.stamp" 2>/dev/null) == "$stamp" ]]; then
  echo "$kver"; exit 0
fi
cp "$tree"/boot/vmlinuz-"$kver" "$out/vmlinuz"

# 2. modules: Debian builds virtio, ATA/SCSI cdrom and iso9660 as modules. Resolve each one's
#    `depends=` (from its .modinfo) and load dependencies first.
moddir=$tree/lib/modules/$kver/kernel
declare -A path=() done=()
while IFS= read -r f; do b=${f##*/}; path[${b%.ko}]=$f; done < <(find "$moddir" -name '*.ko')
order=()
visit() {
  local m=${1//-/_} d deps
  [[ -n ${done[$m]:-} ]] && return
  done[$m]=1
  local f=${path[$m]:-${path[${1//_/-}]:-}}
  [[ -n $f ]] || { echo "make_guest: module $1 not in $pkg" >&2; exit 1; }
  deps=$(strings -n 3 "$f" | sed -n 's/^depends=//p' | head -1)
  for d in ${deps//,/ }; do visit "$d"; done
  order+=("$f")
}
for m in virtio_pci virtio_net virtio_blk ata_piix ahci sr_mod isofs; do visit "$m"; done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,mnt,tmp,lib/modules,usr/share/udhcpc}
cp "$bb" "$root/bin/busybox"
for a in sh mount umount insmod findfs cat echo sleep ip udhcpc ls mkdir grep; do ln -s busybox "$root/bin/$a"; done
: >"$root/modules.order"
for f in "${order[@]}"; do cp "$f" "$root/lib/modules/"; echo "${f##*/}" >>"$root/modules.order"; done
cat >"$root/usr/share/udhcpc/default.script" <<'S'
#!/bin/sh
case "$1" in
  bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null
               echo "vmr-guest: bound $ip on $interface" >/dev/console ;;
esac
S
chmod +x "$root/usr/share/udhcpc/default.script"
cat >"$root/init" <<'S'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m 2>/dev/null; done
echo "vmr-guest: up"
sleep 1
dev=$(findfs LABEL=cidata 2>/dev/null)
if [ -n "$dev" ] && mount -t iso9660 -o ro "$dev" /mnt; then
  echo "vmr-guest: cidata on $dev"
  echo "----- user-data -----"
  cat /mnt/user-data
  echo "----- end user-data -----"
fi
ip link set lo up
if grep -q vmr.nodhcp /proc/cmdline; then
  echo "vmr-guest: no DHCP (vmr.nodhcp)"
elif ip link set eth0 up 2>/dev/null; then
  udhcpc -i eth0 -t 20 -T 1 -A 2 -b -s /usr/share/udhcpc/default.script
else
  echo "vmr-guest: no eth0"
fi
while :; do sleep 3600; done
S
chmod +x "$root/init"
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -1) >"$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$stamp" >"$out/.stamp"
echo "$kver"
