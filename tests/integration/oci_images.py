"""The test container image, made from scratch by umoci (no registry is
reachable): layer 1 the static fixture server as /srv/server, a static
busybox, /etc/passwd, /etc/group and /srv/old.txt; layer 2 deletes old.txt
(a whiteout) and adds new.txt. User app (uid 1000), WorkingDir /srv,
PORT=8080, port 8080/tcp exposed. Also copied by skopeo into an oci-archive
(img.tar:v1) and a docker-archive (d.tar, demo:v1)."""
import contextlib
import os
import shutil
import subprocess
import tempfile

from harness import check, finish, skip

FIXTURE_STATIC = os.environ.get("FIXTURE_STATIC", "build/tests/fixture_static")


def static_elf(path):
    """An ELF without an interpreter (PT_INTERP names ld.so in its first page)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(b"\x7fELF") and b"ld-linux" not in head


def require_tools():
    """The static busybox the image's shell is (skips the test without the tools)."""
    for tool in ("umoci", "skopeo"):
        if not shutil.which(tool):
            skip(f"`{tool}` is not installed (make test installs it: apt-get install {tool})")
    busybox = next((b for b in ("/bin/busybox", shutil.which("busybox") or "")
                    if b and static_elf(b)), None)
    if not busybox:
        skip("a static busybox is missing (make test installs busybox-static)")
    return busybox


def fs_type(path):
    """The filesystem type of the mount path is on (/proc/self/mountinfo)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            mnt, fstype = parts[4], parts[parts.index("-") + 1]
            inside = path == mnt or path.startswith(mnt.rstrip("/") + "/")
            if inside and len(mnt) >= len(best):
                best, kind = mnt, fstype
    return kind


def cache_dir():
    """A fresh image cache: in TMPDIR on a disk, else on a tmpfs (/dev/shm).
    Layers need a filesystem that holds overlay whiteouts, which an overlayfs
    /tmp (a container, the v2 test guest) does not. The caller removes it."""
    base = None if fs_type(tempfile.gettempdir()) not in ("overlay", "tmpfs") else "/dev/shm"
    return tempfile.mkdtemp(prefix="coldstart-test-cache-", dir=base)


def sh(work, cmd):
    p = subprocess.run(["sh", "-ec", cmd], cwd=work, capture_output=True, text=True)
    if p.returncode != 0:
        check(False, f"image build failed (exit {p.returncode}): {cmd[:200]}: "
                     f"{p.stdout[-300:]} {p.stderr[-500:]}")
        finish()
    return p.stdout


def build_test_image(work):
    """Makes WORK/img (an OCI layout, tag v1), WORK/img.tar and WORK/d.tar;
    returns the layout's spec, oci:WORK/img:v1."""
    busybox = require_tools()
    sh(work, f"""
umoci init --layout img
umoci new --image img:v1
umoci unpack --image img:v1 b >/dev/null
mkdir -p b/rootfs/srv b/rootfs/etc b/rootfs/bin b/rootfs/tmp
chmod 1777 b/rootfs/tmp
cp {FIXTURE_STATIC} b/rootfs/srv/server
cp {busybox} b/rootfs/bin/busybox
for t in sh id hostname ls cat echo test touch grep wc; do ln -s busybox b/rootfs/bin/$t; done
printf 'root:x:0:0::/root:/bin/sh\\napp:x:1000:1000::/home/app:/bin/sh\\n' > b/rootfs/etc/passwd
printf 'root:x:0:\\napp:x:1000:\\n' > b/rootfs/etc/group
echo gone > b/rootfs/srv/old.txt
umoci repack --refresh-bundle --image img:v1 b
rm b/rootfs/srv/old.txt
echo new > b/rootfs/srv/new.txt
umoci repack --image img:v1 b
umoci config --image img:v1 --config.entrypoint /srv/server --config.cmd serve \\
  --config.exposedports 8080/tcp --config.user app --config.workingdir /srv \\
  --config.env PORT=8080
skopeo copy -q oci:img:v1 oci-archive:img.tar:v1
skopeo copy -q oci:img:v1 docker-archive:d.tar:demo:v1
""")
    return "oci:" + os.path.join(work, "img") + ":v1"


@contextlib.contextmanager
def test_image_or_fail(prefix):
    """(layout, cache): the test image built in a fresh folder with a fresh
    image cache, both removed afterwards; None, and a failed check, without
    the tools `make test` installs (a block that needs them must not skip)."""
    if not (shutil.which("umoci") and shutil.which("skopeo") and static_elf("/bin/busybox")):
        check(False, "the container block needs umoci, skopeo and busybox-static (make test "
                     "installs them)")
        yield None
        return
    work = tempfile.mkdtemp(prefix=prefix)
    cache = cache_dir()
    try:
        yield build_test_image(work), cache
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
