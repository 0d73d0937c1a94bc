#!/usr/bin/env bash
# Runs pvtui's integration suite twice: on this machine's kernel (which lacks
# PROCESS_VM_PIDFD / PROCESS_VM_NOWAIT, so pvtui takes its fallback paths) and
# inside QEMU on a kernel built with the patch (native paths).
#
#   bash tests/kernel/run.sh [TEST FILTER ARGS...]
#
# Arguments go to the integration test binary inside the VM (default: the
# whole suite). Exit status 0 only when both runs pass.
#
# Environment:
#   PVTUI_KERNEL_CACHE  kernel and build cache, outside the checkout (default
#                       /var/cache/pvtui-kernel, else ~/.cache/pvtui-kernel)
#   PVTUI_VM_TIMEOUT    seconds the VM may run (default 900)
#   PVTUI_VM_THREADS    tests run at once in the VM (default 2, one per CPU)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
here="$repo/tests/kernel"
cache=${PVTUI_KERNEL_CACHE:-/var/cache/pvtui-kernel}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/pvtui-kernel"
fi
vm_timeout=${PVTUI_VM_TIMEOUT:-900}
vm_threads=${PVTUI_VM_THREADS:-2}
rust_target=x86_64-unknown-linux-gnu
start_all=$SECONDS

step() { echo; echo "=== kernel-vm: $* ==="; }
took() { echo "kernel-vm: $1 took $(( SECONDS - $2 )) s"; }

step "installing Debian packages"
packages=(linux-source-6.12 qemu-system-x86 flex bison bc libelf-dev libssl-dev cpio make xz-utils gcc libc6-dev binutils file busybox-static)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "kernel-vm: all present: ${packages[*]}"
fi

step "test kernel (linux-source-6.12 + tests/kernel/process-vm-flags.patch)"
t=$SECONDS
mkdir -p "$cache"
kernel_dir=$(bash "$here/build-kernel.sh" "$cache")
took "kernel" "$t"

step "static pvtui and integration test binaries ($rust_target, +crt-static)"
t=$SECONDS
# A target directory of its own: static flags would otherwise invalidate the
# host build, and an explicit --target keeps them off build scripts and
# proc-macros.
# One per checkout: the fixtures are built from this checkout's sources into
# the target's tmp dir (below).
repo_key=$(printf %s "$repo" | sha256sum | cut -c1-8)
export CARGO_TARGET_DIR="$cache/cargo-target-$repo_key"
build_log="$CARGO_TARGET_DIR/static-build.log"
mkdir -p "$CARGO_TARGET_DIR"
# Optimised, with debug assertions and overflow checks kept: under software
# emulation an unoptimised build is slow enough to miss the tests' read
# deadlines of a few milliseconds.
(cd "$repo" && RUSTFLAGS='-C target-feature=+crt-static' CARGO_PROFILE_DEV_OPT_LEVEL=2 nice -n 5 \
    cargo test --no-run --test integration --target "$rust_target") 2>&1 | tee "$build_log"
# cargo names the test executable: "Executable tests/integration/main.rs (PATH)".
tests_bin=$(sed -n 's/^ *Executable tests\/integration\/main.rs (\(.*\))$/\1/p' "$build_log" | tail -n1)
pvtui_bin="$CARGO_TARGET_DIR/$rust_target/debug/pvtui"
for bin in "$tests_bin" "$pvtui_bin"; do
    [ -x "$bin" ] || { echo "kernel-vm: missing binary '$bin'" >&2; exit 1; }
    if file "$bin" | grep -q "dynamically linked"; then
        echo "kernel-vm: $bin is not static: $(file "$bin")" >&2
        exit 1
    fi
done
# CARGO_MANIFEST_DIR as compiled into the test binary.
manifest_dir=$(cd "$repo" && pwd -P)
took "static build" "$t"

stage="$cache/stage-$repo_key"
rm -rf "$stage"
mkdir -p "$stage"
# Where the suite builds its fixtures (CARGO_TARGET_TMPDIR/fixtures): the VM
# gets them at the same path, so paths the tests print or compare (snapshots)
# are the same on the host and in the VM.
fixtures="$CARGO_TARGET_DIR/$rust_target/tmp/fixtures"
rm -rf "$fixtures"
mkdir -p "$fixtures"

step "host kernel $(uname -r): pvtui probe and the integration suite (fallback paths)"
t=$SECONDS
"$pvtui_bin" probe || echo "kernel-vm: pvtui probe failed on the host"
# The same static binaries as in the VM. The run also builds every fixture
# the suite uses, under the names it looks them up by in the VM.
# INSTA_UPDATE=no: a failed snapshot must not leave .snap.new files behind.
set +e
(cd "$repo" && INSTA_UPDATE=no PVTUI_BIN="$pvtui_bin" "$tests_bin" --test-threads=2 --show-output) 2>&1 |
    tee "$stage/host.log"
host_status=${PIPESTATUS[0]}
set -e
took "host run" "$t"
echo "kernel-vm: host suite exit status $host_status"

# The shared objects (and dynamic loader) the given executables and
# libraries load, as absolute paths, once each.
shared_objects() {
    local f
    for f in "$@"; do
        file -L "$f" | grep -q "dynamically linked\|shared object" || continue
        ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
    done | sort -u
}

step "initramfs"
t=$SECONDS
cc -O2 -static -Wall -o "$stage/init" "$here/init.c"
# Debug info is not needed in the VM and would only make the initramfs large.
objcopy --strip-debug "$tests_bin" "$stage/integration"
objcopy --strip-debug "$pvtui_bin" "$stage/pvtui"
{
    echo "env PATH=/bin"
    echo "env HOME=/root"
    echo "env TMPDIR=/tmp"
    echo "env RUST_BACKTRACE=1"
    echo "env NO_COLOR=1"
    echo "env INSTA_UPDATE=no"
    echo "env INSTA_WORKSPACE_ROOT=$manifest_dir"
    echo "env PVTUI_FIXTURE_DIR=$fixtures"
    echo "env PVTUI_BIN=/bin/pvtui"
    # Inside the VM the native paths must run: a test that would skip for
    # lack of the kernel flags fails instead.
    echo "env PVTUI_EXPECT_NATIVE=1"
    echo "env PVTUI_REQUIRE_ROOT_TESTS=1"
    echo "cd $manifest_dir"
    echo "run /bin/pvtui probe"
    echo "run /bin/pvtui probe --json"
    # --show-output: each test's SKIPPED line (and why) reaches the log.
    echo "run /bin/integration --test-threads=$vm_threads --show-output $*"
} > "$stage/vm-commands"
{
    echo "dir /dev 0755 0 0"
    echo "nod /dev/console 0600 0 0 c 5 1"
    for d in /proc /sys /tmp /run /root /bin /etc; do echo "dir $d 0755 0 0"; done
    # Every directory from / down to each of these, once.
    for dir in "$fixtures" "$manifest_dir"; do
        path=""
        IFS=/ read -ra parts <<< "${dir#/}"
        for part in "${parts[@]}"; do path="$path/$part"; echo "dir $path 0755 0 0"; done
    done | awk '!seen[$0]++'

    echo "file /init $stage/init 0755 0 0"
    echo "file /bin/pvtui $stage/pvtui 0755 0 0"
    echo "file /bin/integration $stage/integration 0755 0 0"
    # busybox for the few tools the tests run (unshare, cp, mkfifo, mknod,
    # timeout), nm, and the host's sleep, a dynamic executable that maps libc
    # as a test expects; tests that need other tools (cc, tmux, ...) say they
    # skip.
    echo "file /bin/busybox /bin/busybox 0755 0 0"
    for applet in unshare cp mkfifo mknod timeout; do
        echo "slink /bin/$applet /bin/busybox 0777 0 0"
    done
    echo "file /bin/sleep $(readlink -f "$(command -v sleep)") 0755 0 0"
    echo "file /bin/nm $(readlink -f "$(command -v nm)") 0755 0 0"
    echo "file /etc/vm-commands $stage/vm-commands 0644 0 0"
    for f in "$fixtures"/*; do
        [ -f "$f" ] && echo "file $f $f 0755 0 0"
    done
    # The fixtures are ordinary dynamic executables and libraries (tests look
    # at libc, dlopen, .dynsym): the VM gets the host's copies of the shared
    # objects they load, at the same paths.
    for lib in $(shared_objects "$fixtures"/* "$(command -v nm)" "$(command -v sleep)"); do
        parent=""
        IFS=/ read -ra parts <<< "$(dirname "${lib#/}")"
        for part in "${parts[@]}"; do parent="$parent/$part"; echo "dir $parent 0755 0 0"; done
        echo "file $lib $(readlink -f "$lib") 0755 0 0"
    done
    # Their detached debug files (libc6-dbg), where installed: tests read
    # libc's DWARF through /usr/lib/debug/.build-id.
    for lib in $(shared_objects "$fixtures"/* "$(command -v sleep)"); do
        id=$(readelf -n "$lib" 2>/dev/null | awk '/Build ID:/ { print $3; exit }')
        debug="/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
        [ -n "$id" ] && [ -f "$debug" ] || continue
        for d in /usr /usr/lib /usr/lib/debug /usr/lib/debug/.build-id "/usr/lib/debug/.build-id/${id:0:2}"; do
            echo "dir $d 0755 0 0"
        done
        echo "file $debug $(readlink -f "$debug") 0644 0 0"
    done
    [ -f /etc/ld.so.cache ] && echo "file /etc/ld.so.cache /etc/ld.so.cache 0644 0 0"
    # The checkout's tests/ at its own path: tests read data files (snapshots) there.
    (cd "$repo" && find tests -path tests/kernel -prune -o -type d -print) | while read -r d; do
        echo "dir $manifest_dir/$d 0755 0 0"
    done
    (cd "$repo" && find tests -path tests/kernel -prune -o -type f -print) | while read -r f; do
        echo "file $manifest_dir/$f $repo/$f 0644 0 0"
    done
} | awk '!seen[$0]++' > "$stage/initramfs.list"
"$kernel_dir/gen_init_cpio" "$stage/initramfs.list" > "$stage/initramfs.cpio"
echo "kernel-vm: initramfs $(du -h "$stage/initramfs.cpio" | cut -f1), $(ls "$fixtures" | wc -l) fixtures"
took "initramfs" "$t"

step "VM: patched kernel under QEMU (software emulation), native paths"
t=$SECONDS
set +e
timeout --foreground -k 10 "$vm_timeout" qemu-system-x86_64 \
    -cpu max -smp 2 -m 2G -nographic -no-reboot -nic none \
    -kernel "$kernel_dir/bzImage" -initrd "$stage/initramfs.cpio" \
    -append "console=ttyS0 panic=-1" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    < /dev/null 2>&1 | tee "$stage/vm.log"
vm_status=${PIPESTATUS[0]}
set -e
took "VM boot and tests" "$t"

# isa-debug-exit makes QEMU exit with (code << 1) | 1: the VM's init writes 0
# when every command passed, 1 otherwise.
case "$vm_status" in
    1) vm_result=passed ;;
    3) vm_result=failed ;;
    124|137) vm_result="timed out after ${vm_timeout} s" ;;
    *) vm_result="ended without a result (QEMU status $vm_status: kernel panic or crash)" ;;
esac
if [ "$vm_result" = passed ] && ! grep -q "^vm: RESULT PASSED" "$stage/vm.log"; then
    vm_result="failed (no RESULT line)"
fi

# The names libtest lists under its last "failures:" heading.
failed_tests() {
    tr -d '\r' < "$1" |
        awk '/^failures:$/ { names = "" } /^    [A-Za-z_][A-Za-z0-9_:]*$/ { names = names " " $1 } END { print names }'
}

step "summary"
echo "kernel-vm: host kernel $(uname -r): pvtui probe --json: $("$pvtui_bin" probe --json 2>&1)"
echo "kernel-vm: host suite (fallback paths): $([ "$host_status" = 0 ] && echo passed || echo "FAILED (status $host_status):$(failed_tests "$stage/host.log")")"
grep -h "^vm: booted\|^vm: kernel probe\|^{.*process_vm_pidfd" "$stage/vm.log" | sed 's/^/kernel-vm: vm: /; s/^kernel-vm: vm: vm: /kernel-vm: vm: /' || true
if [ "$vm_result" = failed ]; then vm_result="FAILED:$(failed_tests "$stage/vm.log")"; fi
echo "kernel-vm: VM suite (native paths): $vm_result"
took "everything" "$start_all"
[ "$host_status" = 0 ] && [ "$vm_result" = passed ]
