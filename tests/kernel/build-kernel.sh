#!/usr/bin/env bash
# Builds the test kernel: Debian's linux-source-6.12 + process-vm-flags.patch,
# configured as tinyconfig + kernel.config. Prints the bzImage path on stdout.
#
# The result is cached outside the checkout, keyed by the source package
# version and a hash of the patch, the config fragment and this script, so an
# unchanged kernel is never rebuilt.
#
# Usage: build-kernel.sh CACHE_ROOT
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${1:?usage: build-kernel.sh CACHE_ROOT}
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || { echo "missing $tarball (apt-get install linux-source-6.12)" >&2; exit 1; }

src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { echo "$src_version"; cat "$here/process-vm-flags.patch" "$here/kernel.config" "$here/build-kernel.sh"; } \
    | sha256sum | cut -c1-16)
out="$cache_root/$key"
if [ -f "$out/bzImage" ] && [ -x "$out/gen_init_cpio" ]; then
    echo "kernel: cached $out/bzImage (linux-source-6.12 $src_version, key $key)" >&2
    echo "$out"
    exit 0
fi

echo "kernel: building (linux-source-6.12 $src_version, key $key); this takes several minutes" >&2
work="$cache_root/build-$key"
rm -rf "$work"
mkdir -p "$work"
tar -C "$work" -xf "$tarball"
tree="$work/linux-source-6.12"
patch -d "$tree" -p1 --forward --quiet < "$here/process-vm-flags.patch"

jobs=$(nproc)
kmake() { nice -n 10 make -C "$tree" -s ARCH=x86_64 -j"$jobs" "$@"; }
kmake tinyconfig >/dev/null
(cd "$tree" && scripts/kconfig/merge_config.sh -m -O . .config "$here/kernel.config" >/dev/null)
kmake olddefconfig >/dev/null

# A requested option that Kconfig dropped (an unmet dependency) would make the
# VM fail in an obscure way later; say which one now.
missing=0
while IFS= read -r line; do
    case "$line" in CONFIG_*=*) ;; *) continue ;; esac
    if ! grep -qx "$line" "$tree/.config"; then
        echo "kernel: $line was requested but the built config has: $(grep "^${line%%=*}=\|# ${line%%=*} is not set" "$tree/.config" || echo nothing)" >&2
        missing=1
    fi
done < "$here/kernel.config"
[ "$missing" = 0 ] || exit 1

kmake bzImage
kmake usr/gen_init_cpio >/dev/null 2>&1 || make -C "$tree/usr" gen_init_cpio >/dev/null 2>&1 || true
if [ ! -x "$tree/usr/gen_init_cpio" ]; then
    cc -O2 -o "$tree/usr/gen_init_cpio" "$tree/usr/gen_init_cpio.c"
fi

mkdir -p "$out.tmp"
cp "$tree/arch/x86/boot/bzImage" "$tree/.config" "$tree/usr/gen_init_cpio" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
rm -rf "$work"
echo "kernel: built $out/bzImage" >&2
echo "$out"
