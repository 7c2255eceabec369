#!/usr/bin/env bash
# sancodec on Linux aarch64 (a Raspberry Pi's or a Jetson's CPU), emulated: a Debian bookworm arm64 root made by
# debootstrap and run through qemu-user, the working tree's tracked files installed there with pip (`.[cpu]`: the C
# kernels built by its gcc, numpy and onnxruntime from PyPI's aarch64 wheels), then the same commands here and
# there, their outputs compared byte for byte: the golden files decoded, mitdb 100 encoded lossless, lossy at
# PRDN 2 % (default and balanced efforts) and by the bundled SAN model through onnxruntime, and that file decoded;
# then the tests that compare the C kernels with numpy's reference bit for bit, and the hostile files', run there
# (without torch, which they do not need). Needs root, network (Debian's and PyPI's mirrors) and about 1.5 GB;
# about 25 min the first time, most of it emulated.
# Usage: sudo scripts/arm64.sh [ROOT, default /tmp/sancodec-arm64]   (the root is kept for a rerun: delete it after)
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-/tmp/sancodec-arm64}"
here="$(pwd)"
command -v debootstrap > /dev/null && command -v qemu-aarch64-static > /dev/null || \
    apt-get install -y -q qemu-user-static debootstrap > /dev/null
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
fi
if [ ! -x "$root/usr/bin/python3" ]; then
    debootstrap --arch=arm64 --variant=minbase \
        --include=python3,python3-venv,python3-dev,python3-pip,gcc,libc6-dev bookworm "$root" http://deb.debian.org/debian
fi
# this machine's certificates (a proxy's own authority, where one stands between it and PyPI)
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root/src" && mkdir -p "$root/src/out"
git ls-files -z | xargs -0 tar -cf - | tar -x -C "$root/src"
inside() {
    chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 /bin/sh -c "cd /src && $1"
}
[ -x "$root/venv/bin/python" ] || inside "python3 -m venv /venv && /venv/bin/pip install -q --upgrade pip"
inside "/venv/bin/pip install -q -e '.[cpu]' pytest hypothesis pytest-xdist"
inside "/venv/bin/python -c 'import platform; print(platform.machine())'" 2> /dev/null
inside "/venv/bin/sancodec version --build" 2> /dev/null
mine="$(mktemp -d)"
trap 'rm -rf "$mine"' EXIT
sample=sancodec/data/samples/100
commands=(
    "encode $sample -o OUT/100.san --force"
    "encode $sample -o OUT/100_lossy.san --mode lossy --prdn 2 --force"
    "encode $sample -o OUT/100_balanced.san --mode lossy --prdn 2 --effort balanced --force"
    "encode $sample -o OUT/100_san.san --mode san --force"
    "decode OUT/100_san.san -o OUT/100_san.npy --force"
)
for golden in tests/golden/v1.0/*.san; do
    commands+=("decode $golden -o OUT/$(basename "$golden" .san).npy --force")
done
for c in "${commands[@]}"; do
    .venv/bin/sancodec ${c//OUT/$mine} > /dev/null 2>&1
    inside "/venv/bin/sancodec ${c//OUT/out}" > /dev/null 2>&1
done
status=0
for f in "$mine"/*; do
    if cmp -s "$f" "$root/src/out/$(basename "$f")"; then
        echo "the same on aarch64: $(basename "$f")"
    else
        echo "DIFFERS on aarch64: $(basename "$f")"
        status=1
    fi
done
inside "/venv/bin/python -m pytest -q -p no:cacheprovider -n 2 tests/test_kernels.py tests/test_running.py \
    tests/test_lossy_bands.py tests/test_dependent.py tests/test_mains.py tests/test_beat_alignment.py \
    tests/test_adaptive_bands.py tests/test_hostile.py tests/test_longterm.py" 2> /dev/null || status=1
exit $status
