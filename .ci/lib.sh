# Shell the CI suites share (sourced by .ci/suites/*.sh after they cd to the repository root).
# SUITE is the sourcing suite's name (its file name without .sh), for messages.
SUITE=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

# Print why the suite does not run here, and end it successfully (CI runs it where it can).
skip() { echo "$SUITE: skipped: $*"; exit 0; }

# What a suite that loads clang-19-built programs into the running kernel needs: Linux, root,
# the kernel's BTF, clang-19, bpftool and libbpf-dev's headers (each HEADER under
# /usr/include/bpf/, bpf_helpers.h when none is named). Skips with the first thing missing.
require_kernel_toolchain() {
  [ "$(uname -s)" = Linux ] || skip "not Linux"
  [ "$(id -u)" = 0 ] || skip "not root (loading programs into the kernel needs it)"
  [ -r /sys/kernel/btf/vmlinux ] || skip "no /sys/kernel/btf/vmlinux (kernel without BTF)"
  command -v clang-19 >/dev/null || skip "clang-19 is not installed"
  command -v bpftool >/dev/null || skip "bpftool is not installed"
  local h
  for h in "${@:-bpf_helpers.h}"; do
    [ -f "/usr/include/bpf/$h" ] || skip "libbpf-dev is not installed"
  done
}

# A directory for bpftool's pins, /sys/fs/bpf/tsbpf_NAME_PID (bpffs refuses names with a dot,
# so no mktemp), with bpffs mounted first; removed when the suite exits. Sets PINDIR.
PINDIR=""
make_pindir() {
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
  PINDIR="/sys/fs/bpf/tsbpf_$1_$$"
  mkdir "$PINDIR"
  trap 'rm -rf "$PINDIR"' EXIT
}
