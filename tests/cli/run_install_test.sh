#!/usr/bin/env bash
# cmake --install into a temporary DESTDIR, then check the tree: the binary
# runs, the qemu-system-x86_64 link answers in QEMU's format and boots the test
# kernel with a QEMU command line, the man page renders with man -l, the bash
# completion completes, the example configs are there. Usage:
#   run_install_test.sh BUILD_DIR TESTKERNEL_ELF
set -euo pipefail
build=$1 elf=$2
dest=$(mktemp -d /tmp/myvmm-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
prefix=/usr/local
# DESTDIR through the environment, as packagers do: nothing lands on this host.
DESTDIR="$dest/root" cmake --install "$build" --prefix "$prefix" > "$dest/install.log" 2>&1 ||
  { cat "$dest/install.log"; fail "cmake --install with DESTDIR failed"; }
r=$dest/root$prefix
for f in bin/myvmm libexec/myvmm/qemu-system-x86_64 share/man/man1/myvmm.1 \
         share/bash-completion/completions/myvmm share/myvmm/configs/ci-boot.conf \
         share/myvmm/configs/test-kernel.conf share/myvmm/configs/desktop.conf; do
  [[ -e $r/$f ]] || fail "$prefix/$f not installed"
done
[[ ! -e $r/bin/qemu-system-x86_64 ]] || fail "bin/qemu-system-x86_64 installed without -DMYVMM_INSTALL_QEMU_LINK=ON"
[[ $(readlink "$r/libexec/myvmm/qemu-system-x86_64") == ../../bin/myvmm ]] ||
  fail "the compatibility link does not point at ../../bin/myvmm"
v=$("$r/bin/myvmm" --version) || fail "installed myvmm --version failed"
[[ $v == "myvmm "* ]] || fail "myvmm --version printed '$v'"
q=$("$r/libexec/myvmm/qemu-system-x86_64" --version) || fail "qemu-system-x86_64 --version failed"
[[ $q =~ ^QEMU\ emulator\ version\ [0-9]+\.[0-9]+\.[0-9]+\ \(myvmm ]] ||
  fail "qemu-system-x86_64 --version printed '$q' (LAVA reads QEMU's format)"
set +e
out=$(PATH=$r/libexec/myvmm:$PATH timeout 30 qemu-system-x86_64 -kernel "$elf" -append tk=info \
      -m 64 -nographic -no-reboot < /dev/null 2>&1)
rc=$?
set -e
[[ $rc == 1 && $out == *"TK: PASS info"* ]] || fail "boot through the link: exit $rc, output: ${out: -500}"
# The man page renders (man-db's man -l, else groff) and covers the options table.
if command -v man > /dev/null; then
  page=$(MANWIDTH=100 man -l "$r/share/man/man1/myvmm.1" 2> "$dest/man.err" | col -b) ||
    fail "man -l failed: $(cat "$dest/man.err")"
else
  page=$(groff -man -Tutf8 "$r/share/man/man1/myvmm.1" | col -b)
fi
for w in "--kernel" "--append" "--console" "--no-default-console" "EXIT STATUS" "qemu-system-x86_64"; do
  grep -q -- "$w" <<< "$page" || fail "the rendered man page lacks '$w'"
done
[[ ! -s $dest/man.err ]] || fail "man warnings: $(cat "$dest/man.err")"
# The completion completes an option and a --console value.
c=$(bash -c 'source "$1"; COMP_WORDS=(myvmm --cons); COMP_CWORD=1; _myvmm; echo "${COMPREPLY[*]}"' _ \
    "$r/share/bash-completion/completions/myvmm")
[[ $c == "--console" ]] || fail "completion of --cons gave '$c'"
c=$(bash -c 'source "$1"; COMP_WORDS=(myvmm --console p); COMP_CWORD=2; _myvmm; echo "${COMPREPLY[*]}"' _ \
    "$r/share/bash-completion/completions/myvmm")
[[ $c == "pty" ]] || fail "completion of --console p gave '$c'"
echo "PASS install: $(cd "$dest/root" && find . -type f -o -type l | sort | tr '\n' ' ')"
