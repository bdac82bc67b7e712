#!/usr/bin/env python3
"""dotlink benchmark suite: dotlink against GNU Stow, dotter, tuckr and dotbot.

Generates synthetic Stow-style dotfiles repositories (packages `pkgNNN/` whose contents mirror
the home directory), then, for every size and every tool, on the tool's own fresh copy of the
same tree and into a fresh empty home, measures:

  first   first apply into an empty home
  noop    apply again when everything is linked (the after-`git pull` case)
  status  the tool's status check (or its dry run when it has no status command)
  prune   apply after 1% of the sources were added and 1% removed

Wall time (median of --runs repetitions); in one extra untimed pass under `strace -c -f`, the
number of system calls; in another, under GNU time (`/usr/bin/time -f %M`), the peak RSS.
Every run is checked: the tool's exit status, and the links in the home (every source linked,
nothing dangling left behind). Standard library only. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
TOOLS_DIR = os.path.join(BENCH_DIR, ".tools")

OPS = ["first", "noop", "status", "prune"]
OP_TITLES = {
    "first": "first apply (empty home)",
    "noop": "no-op apply (all linked)",
    "status": "status",
    "prune": "apply after +1%/-1% sources",
}
ALL_PEERS = ["stow", "dotter", "tuckr", "dotbot"]
FILES_PER_PACKAGE = 100

# Targets the issue sets for dotlink, checked on the 10,000-file tree.
TARGET_SIZE = 10000
TARGET_SYSCALLS = {"status": 2.0, "noop": 2.0, "first": 5.0}
TARGET_RSS_KB = 8 * 1024
TARGET_SPEEDUP = {"stow": 40.0, "dotter": 8.0}
TARGET_TYPICAL_MS = 2.0
# 5,000 backups cost at most this many times 5,000 plain links (first apply, empty home).
BACKUPS_SIZE = 5000
TARGET_BACKUP_RATIO = 3.0


START = time.monotonic()


def log(msg):
    t = int(time.monotonic() - START)
    print(f"[{t // 60:3d}:{t % 60:02d}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Synthetic trees


def package_files(pkg, count):
    """Relative paths (inside package `pkg`) of its `count` files, mirroring a home dir."""
    out = []
    for m in range(count):
        if m == 0:
            out.append(f".{pkg}rc")
        elif m < 10:
            out.append(f".config/{pkg}/file{m}")
        elif m < 90:
            out.append(f".config/{pkg}/d{m // 10}/file{m}")
        else:
            out.append(f".local/bin/{pkg}-tool{m}")
    return out


def generate_tree(root, size):
    """Write `size` files into `root` as packages of FILES_PER_PACKAGE; return (packages, files)."""
    packages, files = [], []
    npkg = (size + FILES_PER_PACKAGE - 1) // FILES_PER_PACKAGE
    width = max(3, len(str(npkg - 1)))
    left = size
    for p in range(npkg):
        pkg = f"pkg{p:0{width}d}"
        packages.append(pkg)
        n = min(FILES_PER_PACKAGE, left)
        left -= n
        for rel in package_files(pkg, n):
            files.append(f"{pkg}/{rel}")
    made = set()
    for f in files:
        d = os.path.dirname(os.path.join(root, f))
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        with open(os.path.join(root, f), "w") as fh:
            fh.write(f"# {f}\n")
    return packages, files


# A repository shaped like a real one: a few hundred files, most of them in a handful of
# configuration trees (an editor's plugins, a shell's functions), a few single files at the top,
# scripts in bin/, linked with the kinds of entries people write (single files, recursive trees,
# globs).
TYPICAL = {
    "zsh": [".zshrc", ".zshenv", ".zprofile"] + [f"functions/f{i}.zsh" for i in range(24)],
    "git": ["gitconfig", "gitignore", "gitmessage"],
    "nvim": ["init.lua", "lazy-lock.json"]
            + [f"lua/config/{n}.lua" for n in ("options", "keymaps", "autocmds", "lazy")]
            + [f"lua/plugins/p{i:02d}.lua" for i in range(60)]
            + [f"after/ftplugin/{ft}.lua" for ft in ("rust", "python", "go", "lua", "sh", "md",
                                                      "toml", "yaml", "json", "c")]
            + [f"snippets/s{i}.json" for i in range(30)]
            + [f"spell/en.utf-8.add{sfx}" for sfx in ("", ".spl")],
    "tmux": ["tmux.conf"] + [f"plugins/t{i}.sh" for i in range(8)],
    "alacritty": ["alacritty.toml"] + [f"themes/theme{i}.toml" for i in range(20)],
    "bin": [f"script{i}" for i in range(40)],
    "ssh": ["config"],
    "fish": ["config.fish"] + [f"functions/fn{i}.fish" for i in range(40)]
            + [f"completions/c{i}.fish" for i in range(20)] + [f"conf.d/d{i}.fish" for i in range(6)],
    "misc": [".inputrc", ".editorconfig", ".curlrc", ".wgetrc", ".npmrc", ".gemrc"],
}

TYPICAL_MANIFEST = """[defaults]
prune = true

[[link]]
source = "zsh/.z*"
target = "~/"

[[link]]
source = "zsh/functions"
target = "~/.zsh/functions"
recursive = true

[[link]]
source = "git/gitconfig"
target = "~/.gitconfig"

[[link]]
source = "git/gitignore"
target = "~/.config/git/ignore"

[[link]]
source = "git/gitmessage"
target = "~/.config/git/message"

[[link]]
source = "nvim"
target = "~/.config/nvim"
recursive = true

[[link]]
source = "tmux"
target = "~/.config/tmux"
recursive = true

[[link]]
source = "alacritty"
target = "~/.config/alacritty"
recursive = true

[[link]]
source = "bin/*"
target = "~/.local/bin/"

[[link]]
source = "ssh/config"
target = "~/.ssh/config"

[[link]]
source = "fish"
target = "~/.config/fish"
recursive = true

[[link]]
source = "misc/.*"
target = "~/"
"""


def measure_typical(dotlink, tmp, runs):
    """dotlink status on the typical repository: the median and best of `runs` runs, in ms."""
    ws = Workspace(os.path.join(tmp, "typical"))
    count = 0
    for pkg, files in TYPICAL.items():
        for rel in files:
            path = os.path.join(ws.repo, pkg, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write(f"# {pkg}/{rel}\n")
            count += 1
    with open(os.path.join(ws.repo, "dotlink.toml"), "w") as fh:
        fh.write(TYPICAL_MANIFEST)
    m = os.path.join(ws.repo, "dotlink.toml")
    base = [dotlink.exe, "-q", "--color", "never", "-m", m]
    subprocess.run(base + ["apply"], env=ws.env(), cwd=ws.repo, check=True,
                   stdout=subprocess.DEVNULL)
    times = []
    for _ in range(max(runs, 1) * 10):
        t0 = time.perf_counter()
        r = subprocess.run(base + ["status"], env=ws.env(), cwd=ws.repo,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
        if r.returncode != 0:
            sys.exit(f"dotlink status on the typical repository exited {r.returncode}")
    rmtree(ws.root)
    times.sort()
    return {"links": count, "median_ms": times[len(times) // 2], "best_ms": times[0],
            "runs": len(times)}


def measure_backups(dotlink, tmp, runs, size=BACKUPS_SIZE):
    """First apply of `size` links into an empty home against the same apply with a regular
    file at every target (`--on-conflict backup`, so each is moved to the backup set first):
    the median of each over `runs` interleaved runs, in ms, and their ratio."""
    ws = Workspace(os.path.join(tmp, "backups"))
    packages, files = generate_tree(ws.repo, size)
    Dotlink(dotlink.exe).write_config(ws, packages, files)
    base = [dotlink.exe, "-q", "--color", "never", "apply"]
    times = {"plain": [], "backup": []}
    for _ in range(max(runs, 3)):
        for kind in times:
            for d in (ws.home, ws.xdg):
                rmtree(d)
                os.makedirs(d)
            if kind == "backup":
                for f in files:
                    path = os.path.join(ws.home, home_path(f))
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "w") as fh:
                        fh.write("the user's own\n")
            argv = base + (["--on-conflict", "backup"] if kind == "backup" else [])
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=ws.env(), cwd=ws.repo,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[kind].append((time.perf_counter() - t0) * 1000)
            if r.returncode != 0:
                sys.exit(f"dotlink apply ({kind}) of {size} links exited {r.returncode}")
    rmtree(ws.root)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"links": size, "plain_ms": med["plain"], "backup_ms": med["backup"],
            "ratio": med["backup"] / med["plain"], "runs": len(times["plain"])}


def plan_mutation(packages, files, size, seed=20261124):
    """The same 1% removals and 1% additions for every tool's copy."""
    rng = random.Random(seed + size)
    k = max(1, size // 100)
    removed = sorted(rng.sample(files, k))
    added = []
    for i in range(k):
        pkg = packages[rng.randrange(len(packages))]
        added.append(f"{pkg}/.config/{pkg}/new{i % 7}/added{i}")
    return removed, added


def apply_mutation(pkgroot, removed, added):
    for f in removed:
        os.unlink(os.path.join(pkgroot, f))
    for f in added:
        p = os.path.join(pkgroot, f)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as fh:
            fh.write(f"# {f}\n")


def copy_tree(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    subprocess.run(["cp", "-a", src, dst], check=True)


def rmtree(path):
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--", path], check=False)


def home_path(file_rel):
    """`pkg000/.config/x` -> `.config/x` (where it is linked in the home)."""
    return file_rel.split("/", 1)[1]


def check_links(home, pkgroot, files):
    """Compare the home with what should be linked. Returns (missing, wrong, stale, folded)."""
    expected = {home_path(f): os.path.join(pkgroot, f) for f in files}
    pkgroot_real = os.path.realpath(pkgroot) + os.sep
    found_ok, wrong, stale, folded = set(), 0, 0, 0
    stack = [home]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                rel = os.path.relpath(e.path, home)
                if e.is_symlink():
                    real = os.path.realpath(e.path)
                    if rel in expected:
                        if real == os.path.realpath(expected[rel]):
                            found_ok.add(rel)
                        else:
                            wrong += 1
                    elif os.path.isdir(e.path):
                        folded += 1
                    elif (real + os.sep).startswith(pkgroot_real) or real.startswith(pkgroot_real):
                        stale += 1  # a link into the repository that should not be there
                elif e.is_dir():
                    stack.append(e.path)
    missing = len(expected) - len(found_ok)
    return missing, wrong, stale, folded


# --------------------------------------------------------------------------------------------
# Tools


class Workspace:
    """One tool's fresh copy of the tree, its empty home and its state, under `root`."""

    def __init__(self, root):
        self.root = root
        self.home = os.path.join(root, "home")
        self.xdg = os.path.join(root, "xdg")
        self.repo = os.path.join(root, "repo")  # the dotfiles repository
        self.pkgroot = self.repo  # where the packages are (tuckr nests them deeper)
        self.log = os.path.join(root, "out.log")
        for d in (self.home, self.xdg):
            os.makedirs(d, exist_ok=True)

    def env(self, extra=None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": self.home,
            "USER": os.environ.get("USER", "root"),
            "LOGNAME": os.environ.get("LOGNAME", os.environ.get("USER", "root")),
            "SHELL": "/bin/sh",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "TMPDIR": os.path.join(self.xdg, "tmp"),
            "XDG_CONFIG_HOME": os.path.join(self.xdg, "config"),
            "XDG_STATE_HOME": os.path.join(self.xdg, "state"),
            "XDG_DATA_HOME": os.path.join(self.xdg, "data"),
            "XDG_CACHE_HOME": os.path.join(self.xdg, "cache"),
            "XDG_RUNTIME_DIR": os.path.join(self.xdg, "run"),
        }
        for k in ("TMPDIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME",
                  "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
            os.makedirs(env[k], mode=0o700, exist_ok=True)
        if extra:
            env.update(extra)
        return env


class Tool:
    name = "?"
    ops = OPS  # operations it supports
    op_notes = {}

    def __init__(self, exe):
        self.exe = exe
        self.version = "?"

    def setup(self, ws, template, packages, files):
        """Copy the tree and write the config (not timed)."""
        copy_tree(template, ws.repo)
        self.write_config(ws, packages, files)

    def write_config(self, ws, packages, files):
        pass

    def after_mutation(self, ws, packages, files):
        """The config change a user would make for the new file list (not timed)."""

    def commands(self, op, ws, packages):
        """argv lists (usually one) and the cwd to run them in."""
        raise NotImplementedError

    def env_extra(self, ws):
        return None

    def accept(self, op, rc):
        return rc == 0

    def self_check(self, op, ws, packages):
        """Tool-specific correctness check after an operation; None = fine, else a reason."""
        return None


class Dotlink(Tool):
    name = "dotlink"

    def write_config(self, ws, packages, files):
        lines = ["[defaults]", "prune = true", ""]
        for p in packages:
            lines += ["[[link]]", f'source = "{p}"', 'target = "~"', "recursive = true", ""]
        with open(os.path.join(ws.repo, "dotlink.toml"), "w") as fh:
            fh.write("\n".join(lines))

    def commands(self, op, ws, packages):
        m = os.path.join(ws.repo, "dotlink.toml")
        sub = "status" if op == "status" else "apply"
        return [[self.exe, "-q", "--color", "never", "-m", m, sub]], ws.repo

    def self_check(self, op, ws, packages):
        if op == "status":
            return None  # the timed run is itself the status check (accept() wants exit 0)
        m = os.path.join(ws.repo, "dotlink.toml")
        r = subprocess.run([self.exe, "-q", "--color", "never", "-m", m, "status"],
                           env=ws.env(), cwd=ws.repo, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            return f"`dotlink status` exited {r.returncode} after {op}: {r.stdout.strip()[:300]}"
        return None


class Stow(Tool):
    name = "stow"
    op_notes = {
        "first": "`stow --no-folding -d REPO -t HOME PKG…`",
        "noop": "`stow --no-folding …` again (plain stow does not prune)",
        "status": "`stow --no-folding -n -v …` (simulate; stow has no status)",
        "prune": "`stow --no-folding -R …` (restow)",
    }
    CHUNK = 2000  # packages per command line

    def commands(self, op, ws, packages):
        flags = {"first": [], "noop": [], "status": ["-n", "-v"], "prune": ["-R"]}[op]
        cmds = []
        for i in range(0, len(packages), self.CHUNK):
            cmds.append([self.exe, "--no-folding", *flags, "-d", ws.repo, "-t", ws.home,
                         *packages[i:i + self.CHUNK]])
        return cmds, ws.repo


class Dotter(Tool):
    name = "dotter"
    op_notes = {
        "first": "`dotter deploy -y -q` (one symbolic directory entry per package, recursed)",
        "noop": "`dotter deploy -y -q`",
        "status": "`dotter deploy --dry-run -q` (dotter has no status)",
        "prune": "`dotter deploy -y -q` (removes cached links whose source is gone)",
    }

    def write_config(self, ws, packages, files):
        d = os.path.join(ws.repo, ".dotter")
        os.makedirs(d, exist_ok=True)
        lines = ["[settings]", 'default_target_type = "symbolic"', "", "[bench.files]"]
        for p in packages:
            lines.append(f'{p} = {{ target = "~", type = "symbolic" }}')
        with open(os.path.join(d, "global.toml"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
        with open(os.path.join(d, "local.toml"), "w") as fh:
            fh.write('packages = ["bench"]\n')

    def commands(self, op, ws, packages):
        flags = ["--dry-run"] if op == "status" else []
        return [[self.exe, "deploy", "-y", "-q", *flags]], ws.repo


class Tuckr(Tool):
    name = "tuckr"
    op_notes = {
        "first": "`tuckr add --only-files -y '*'` (TUCKR_HOME=…, TUCKR_TARGET=HOME; groups = packages)",
        "noop": "`tuckr add --only-files -y '*'`",
        "status": "`tuckr status`",
        "prune": "`tuckr add --only-files -y '*'` (tuckr has no prune)",
    }

    def setup(self, ws, template, packages, files):
        ws.tuckr_home = os.path.join(ws.root, "tuckr")
        ws.repo = os.path.join(ws.tuckr_home, "dotfiles")
        ws.pkgroot = os.path.join(ws.repo, "Configs")
        copy_tree(template, ws.pkgroot)

    def env_extra(self, ws):
        return {"TUCKR_HOME": ws.tuckr_home, "TUCKR_TARGET": ws.home}

    def commands(self, op, ws, packages):
        if op == "status":
            return [[self.exe, "status"]], ws.home
        return [[self.exe, "add", "--only-files", "-y", "*"]], ws.home


class Dotbot(Tool):
    name = "dotbot"
    op_notes = {
        "first": "`dotbot -q -d REPO -c install.conf.json` (one link entry per file, create, relative; clean ~ recursive)",
        "noop": "`dotbot -q -d REPO -c install.conf.json`",
        "status": "`dotbot --dry-run …` (dotbot has no status)",
        "prune": "`dotbot …` with the config regenerated for the new file list; `clean` removes the dead links",
    }

    def write_config(self, ws, packages, files):
        links = {f"~/{home_path(f)}": f for f in files}
        conf = [
            {"defaults": {"link": {"create": True, "relative": True}}},
            {"clean": {"~": {"recursive": True}}},
            {"link": links},
        ]
        with open(os.path.join(ws.repo, "install.conf.json"), "w") as fh:
            json.dump(conf, fh, indent=1)

    def after_mutation(self, ws, packages, files):
        self.write_config(ws, packages, files)

    def commands(self, op, ws, packages):
        flags = ["--dry-run"] if op == "status" else []
        return [[self.exe, "-q", "--no-color", *flags, "-d", ws.repo,
                 "-c", os.path.join(ws.repo, "install.conf.json")]], ws.repo


# --------------------------------------------------------------------------------------------
# Finding and installing the tools


def run_quiet(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def tool_version(exe, args=("--version",)):
    try:
        # cwd=/: dotbot's --version reports the git commit of the current directory.
        r = run_quiet([exe, *args], timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if r.returncode != 0:
        return None, r.stdout.strip()[-300:]
    first = next((l for l in r.stdout.splitlines() if l.strip()), "").strip()
    # dotbot appends the git commit of the repository its package sits in (ours, if the venv is
    # in bench/.tools): drop it. Likewise drop a leading program name.
    first = re.sub(r"\s*\(git [0-9a-f]+\)$", "", first)
    first = re.sub(r"^(stow \(GNU Stow\) version|Dotbot version|dotter|tuckr|dotlink)\s+", "", first)
    return first, None


def apt_install(pkgs, allow_install):
    """Install Debian packages if they are missing. Returns None or a reason it could not."""
    if not allow_install:
        return "not installed and --no-install given"
    if not shutil.which("apt-get"):
        return "apt-get not found"
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return "not root and no sudo to run apt-get"
    log(f"  installing {' '.join(pkgs)} with apt-get …")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = run_quiet(prefix + ["apt-get", "install", "-y", "-q", *pkgs], env=env)
    if r.returncode != 0:
        run_quiet(prefix + ["apt-get", "update", "-q"], env=env)
        r = run_quiet(prefix + ["apt-get", "install", "-y", "-q", *pkgs], env=env)
    if r.returncode != 0:
        return "apt-get install failed: " + r.stdout.strip()[-300:]
    return None


def find_cargo_tool(name, allow_install):
    """A crates.io binary: bench/.tools/bin, then PATH, ~/.cargo/bin; else cargo install."""
    candidates = [os.path.join(TOOLS_DIR, "bin", name), shutil.which(name),
                  os.path.expanduser(f"~/.cargo/bin/{name}")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c, None
    if not allow_install:
        return None, "not installed and --no-install given"
    cargo = shutil.which("cargo") or os.path.expanduser("~/.cargo/bin/cargo")
    if not os.access(cargo, os.X_OK):
        return None, "cargo not found (needed for `cargo install " + name + "`)"
    log(f"  cargo install {name} into {TOOLS_DIR} (takes a few minutes, once) …")
    r = run_quiet([cargo, "install", "--locked", "--root", TOOLS_DIR, name])
    if r.returncode != 0:
        r = run_quiet([cargo, "install", "--root", TOOLS_DIR, name])
    exe = os.path.join(TOOLS_DIR, "bin", name)
    if r.returncode != 0 or not os.access(exe, os.X_OK):
        return None, "cargo install failed: " + r.stdout.strip()[-400:]
    return exe, None


def find_dotbot(allow_install):
    venv = os.path.join(TOOLS_DIR, "dotbot-venv")
    exe = os.path.join(venv, "bin", "dotbot")
    if os.access(exe, os.X_OK):
        return exe, None
    w = shutil.which("dotbot")
    # A pyenv shim needs the real $HOME to work, and every run gets a fake one: skip those.
    if w and "/shims/" not in w:
        return w, None
    if not allow_install:
        return None, "not installed and --no-install given"
    log(f"  pip install dotbot into {venv} …")
    r = run_quiet([sys.executable, "-m", "venv", venv])
    if r.returncode != 0:
        return None, "python3 -m venv failed: " + r.stdout.strip()[-300:]
    r = run_quiet([os.path.join(venv, "bin", "pip"), "install", "-q", "dotbot"])
    if r.returncode != 0 or not os.access(exe, os.X_OK):
        return None, "pip install dotbot failed: " + r.stdout.strip()[-300:]
    return exe, None


def find_peer(name, allow_install):
    if name == "stow":
        exe = shutil.which("stow")
        if not exe:
            why = apt_install(["stow"], allow_install)
            exe = shutil.which("stow")
            if not exe:
                return None, why or "stow still not on PATH after apt-get install"
        tool = Stow(exe)
    elif name == "dotter":
        exe, why = find_cargo_tool("dotter", allow_install)
        if not exe:
            return None, why
        tool = Dotter(exe)
    elif name == "tuckr":
        exe, why = find_cargo_tool("tuckr", allow_install)
        if not exe:
            return None, why
        tool = Tuckr(exe)
    elif name == "dotbot":
        exe, why = find_dotbot(allow_install)
        if not exe:
            return None, why
        tool = Dotbot(exe)
    else:
        return None, "unknown peer"
    v, err = tool_version(tool.exe)
    if v is None:
        return None, f"`{tool.exe} --version` failed: {err}"
    tool.version = v
    return tool, None


def find_dotlink(path):
    exe = path or os.path.join(REPO_ROOT, "target", "release", "dotlink")
    if not os.access(exe, os.X_OK):
        sys.exit(f"dotlink binary not found at {exe}: run `bash .ci/build-release` (bench/run does)")
    t = Dotlink(os.path.abspath(exe))
    t.version = tool_version(t.exe)[0] or "?"
    return t


def find_gnu_time(allow_install):
    exe = "/usr/bin/time"
    if not os.access(exe, os.X_OK):
        why = apt_install(["time"], allow_install)
        if not os.access(exe, os.X_OK):
            return None, why or "/usr/bin/time still missing"
    r = run_quiet([exe, "-f", "%M", "true"])
    try:
        int(r.stdout.split()[-1])
    except (ValueError, IndexError):
        return None, "/usr/bin/time is not GNU time (no -f %M)"
    return exe, None


def find_strace(allow_install):
    exe = shutil.which("strace")
    if not exe:
        why = apt_install(["strace"], allow_install)
        exe = shutil.which("strace")
        if not exe:
            return None, why
    r = run_quiet([exe, "-c", "-f", "-o", "/dev/null", "true"])
    if r.returncode != 0:
        return None, "strace does not work here (ptrace not permitted?): " + r.stdout.strip()[-200:]
    return exe, None


# --------------------------------------------------------------------------------------------
# Running and measuring


def run_measured(argv, env, cwd, logfh):
    """Run one command; return (wall seconds, exit code, (user, sys) CPU seconds).

    The ru_maxrss from wait4 is not used for the report: it includes the RSS of the forked
    Python process before exec, so it is never below this script's own.
    """
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                         stdout=logfh, stderr=logfh)
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)
    return t1 - t0, p.returncode, (ru.ru_utime, ru.ru_stime)


def parse_strace(path):
    """Total calls and per-syscall calls from `strace -c` output (summing the rows)."""
    per = {}
    try:
        with open(path) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        tok = line.split()
        if len(tok) < 5 or tok[0].startswith("%") or tok[0].startswith("-"):
            continue
        name = tok[-1]
        if name == "total":
            continue
        try:
            calls = int(tok[3])
        except ValueError:
            continue
        per[name] = per.get(name, 0) + calls
    if not per:
        return None, {}
    return sum(per.values()), per


def run_op(tool, op, ws, packages, mode=None, helper=None):
    """Run one operation (possibly several command lines) and measure it.

    mode None: wall time; "strace": under `strace -c -f` (helper = strace); "mem": under GNU
    time's %M (helper = /usr/bin/time), which forks the tool from its own small process, so the
    peak RSS is the tool's and not that of this Python process the tool was forked from.
    """
    cmds, cwd = tool.commands(op, ws, packages)
    env = ws.env(tool.env_extra(ws))
    total, rss, rc_bad, calls, per, user, sys_ = 0.0, None, None, 0, {}, 0.0, 0.0
    with open(ws.log, "a") as logfh:
        for i, argv in enumerate(cmds):
            logfh.write(f"\n$ {' '.join(argv[:12])}{' …' if len(argv) > 12 else ''}\n")
            logfh.flush()
            out = os.path.join(ws.root, f"{mode}-{op}-{i}.txt")
            if mode == "strace":
                argv = [helper, "-c", "-f", "-o", out, "--", *argv]
            elif mode == "mem":
                argv = [helper, "-f", "%M", "-o", out, "--", *argv]
            dt, rc, (u, s) = run_measured(argv, env, cwd, logfh)
            total += dt
            user += u
            sys_ += s
            if not tool.accept(op, rc) and rc_bad is None:
                rc_bad = rc
            if mode == "strace":
                c, p = parse_strace(out)
                if c is None:
                    calls = None
                elif calls is not None:
                    calls += c
                    for k, v in p.items():
                        per[k] = per.get(k, 0) + v
            elif mode == "mem":
                try:
                    with open(out) as fh:
                        kb = int(fh.read().split()[-1])
                    rss = kb if rss is None else max(rss, kb)
                except (OSError, ValueError, IndexError):
                    pass
    r = {"time": total, "rc": rc_bad, "user": user, "sys": sys_}
    if mode == "strace":
        r.update(calls=calls, per=per)
    if mode == "mem":
        r["rss"] = rss
    return r


def tail(path, offset=0, n=12):
    """The last `n` lines the tool printed from `offset` on (its output for one operation)."""
    try:
        with open(path, errors="replace") as fh:
            fh.seek(offset)
            lines = [l for l in fh.read().splitlines() if l.strip()]
        return "\n".join("      " + l for l in lines[-n:])
    except OSError:
        return ""


def run_sequence(tool, wsroot, tree, mode=None, helper=None):
    """first → noop → status → mutate → prune on a fresh workspace. Returns {op: result}."""
    template, packages, files, removed, added, size = tree
    rmtree(wsroot)
    ws = Workspace(wsroot)
    tool.setup(ws, template, packages, files)
    results = {}
    cur_files = files
    for op in OPS:
        if op == "prune":
            apply_mutation(ws.pkgroot, removed, added)
            rs = set(removed)
            cur_files = [f for f in files if f not in rs] + added
            tool.after_mutation(ws, packages, cur_files)
        if op not in tool.ops:
            results[op] = {"state": "n/a"}
            continue
        offset = os.path.getsize(ws.log) if os.path.exists(ws.log) else 0
        r = run_op(tool, op, ws, packages, mode, helper)
        problem = None
        if r["rc"] is not None:
            problem = f"exit status {r['rc']}"
        else:
            problem = tool.self_check(op, ws, packages)
        if problem is None and op != "status":
            missing, wrong, stale, folded = check_links(ws.home, ws.pkgroot, cur_files)
            if missing or wrong or stale or folded:
                bits = []
                for k, v in (("missing", missing), ("wrong", wrong),
                             ("stale links left", stale), ("directory links", folded)):
                    if v:
                        bits.append(f"{v} {k}")
                problem = "incomplete: " + ", ".join(bits)
                r["incomplete"] = True
        if problem:
            r["state"] = "incomplete" if r.get("incomplete") else "failed"
            r["problem"] = problem
            r["log"] = tail(ws.log, offset)
        else:
            r["state"] = "ok"
        results[op] = r
    return results


# --------------------------------------------------------------------------------------------
# Reporting


def fmt_time(s):
    if s is None:
        return "–"
    if s < 1:
        return f"{s * 1000:.1f} ms" if s < 0.1 else f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_num(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def markdown_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def summarize(data, tools, sizes):
    """Medians, states and notes per size/tool/op."""
    out = {}
    for size in sizes:
        out[size] = {}
        for t in tools:
            out[size][t] = {}
            for op in OPS:
                reps = data["runs"][size][t]
                rs = [r[op] for r in reps if op in r]
                states = {r.get("state") for r in rs}
                ok = [r for r in rs if r.get("state") == "ok"]
                entry = {"times": [r["time"] for r in rs if "time" in r]}
                if "n/a" in states:
                    entry["state"] = "n/a"
                elif "failed" in states:
                    entry["state"] = "failed"
                elif "incomplete" in states:
                    entry["state"] = "incomplete"
                elif ok:
                    entry["state"] = "ok"
                else:
                    entry["state"] = "not run"
                timed = [r for r in rs if "time" in r and r.get("state") in ("ok", "incomplete")]
                entry["median"] = statistics.median(r["time"] for r in timed) if timed else None
                entry["median_user"] = statistics.median(r["user"] for r in timed) if timed else None
                entry["median_sys"] = statistics.median(r["sys"] for r in timed) if timed else None
                entry["rss_kb"] = data["mem"].get(size, {}).get(t, {}).get(op)
                probs = sorted({r["problem"] for r in rs if r.get("problem")})
                if probs:
                    entry["problems"] = probs
                st = data["strace"].get(size, {}).get(t, {}).get(op)
                if st and st.get("calls"):
                    entry["syscalls"] = st["calls"]
                    entry["syscalls_per_link"] = st["calls"] / size
                    entry["top_syscalls"] = sorted(st["per"].items(), key=lambda kv: -kv[1])[:10]
                out[size][t][op] = entry
    return out


def cell(entry, base=None):
    st = entry["state"]
    if st in ("n/a", "not run"):
        return st
    if st == "failed":
        return "failed"
    s = fmt_time(entry["median"])
    if st == "incomplete":
        s += " (!)"
    if base is not None and entry["median"] and base["median"] and base["state"] == "ok":
        s += f" ({base['median'] / entry['median']:.3f})"
    return s


def report(summary, tools, sizes, peers_info, meta, has_strace, has_mem):
    lines = []
    p = lines.append
    p(f"# dotlink benchmark — {meta['date']}")
    p("")
    p(f"Machine: {meta['machine']}; runs per measurement: {meta['runs']} (median reported); "
      f"trees, homes and state on {meta['workdir_fs']}.")
    p("Tools: " + "; ".join(f"{t} {meta['versions'][t]}" for t in tools))
    skipped = {k: v for k, v in peers_info.items() if v}
    for k, v in skipped.items():
        p(f"Skipped {k}: {v}")
    p("")
    p("## Median wall time (ratio = dotlink / peer; below 1 means dotlink is faster)")
    p("")
    header = ["files", "operation"] + tools
    rows = []
    for size in sizes:
        for op in OPS:
            base = summary[size]["dotlink"][op]
            row = [f"{size:,}", OP_TITLES[op], cell(base)]
            for t in tools[1:]:
                row.append(cell(summary[size][t][op], base))
            rows.append(row)
    p(markdown_table(header, rows))
    p("")
    p("`(!)` = the run exited 0 but left the home wrong (see notes); `failed` = non-zero exit.")
    p("")
    p("## Time per link (µs per file, median)")
    p("")
    def per_tool_table(value):
        """One row per size and operation, one column per tool: value(entry, size)."""
        rows = []
        for size in sizes:
            for op in OPS:
                rows.append([f"{size:,}", OP_TITLES[op]]
                            + [value(summary[size][t][op], size) for t in tools])
        p(markdown_table(header, rows))
        p("")

    per_tool_table(lambda e, size: "–" if e["median"] is None or e["state"] in ("failed", "n/a")
                   else f"{e['median'] / size * 1e6:.1f}")
    if has_strace:
        p("## System calls per link (`strace -c -f`, one untimed run)")
        p("")
        per_tool_table(lambda e, size: fmt_num(e.get("syscalls_per_link"))
                       if e["state"] != "n/a" else "n/a")
    if has_mem:
        p("## Peak memory (max RSS of the tool's process, MiB, `/usr/bin/time -f %M`, one untimed run)")
        p("")
        per_tool_table(lambda e, size: "n/a" if e["state"] == "n/a" else
                       ("–" if e["rss_kb"] is None else f"{e['rss_kb'] / 1024:.1f}"))
    # Top syscalls for dotlink at the largest size.
    if has_strace:
        big = max(sizes)
        p(f"## dotlink: top system calls at {big:,} files")
        p("")
        for op in OPS:
            e = summary[big]["dotlink"][op]
            if e.get("top_syscalls"):
                top = ", ".join(f"{k} {v}" for k, v in e["top_syscalls"][:8])
                cpu = ""
                if e.get("median_user") is not None:
                    cpu = (f" (CPU: {e['median_user'] * 1000:.0f} ms user, "
                           f"{e['median_sys'] * 1000:.0f} ms sys, of {fmt_time(e['median'])} wall)")
                p(f"- {OP_TITLES[op]}{cpu}: {e['syscalls']:,} calls — {top}")
        p("")
    p(f"## Targets (dotlink on {TARGET_SIZE:,} files)")
    p("")
    if TARGET_SIZE not in sizes:
        p(f"not evaluated: add {TARGET_SIZE} to --sizes")
    else:
        s = summary[TARGET_SIZE]
        d = s["dotlink"]
        checks = []
        for op, lim in TARGET_SYSCALLS.items():
            v = d[op].get("syscalls_per_link")
            checks.append((f"{OP_TITLES[op]}: ≤ {lim} syscalls/link", v is not None and v <= lim,
                           "no strace" if v is None else f"{v:.2f}"))
        peak = max((d[op]["rss_kb"] or 0) for op in OPS)
        checks.append((f"peak memory < {TARGET_RSS_KB // 1024} MiB",
                       (peak < TARGET_RSS_KB) if peak else None,
                       f"{peak / 1024:.1f} MiB" if peak else "not measured"))
        for peer, factor in TARGET_SPEEDUP.items():
            for op in ("status", "noop"):
                if peer not in s:
                    checks.append((f"{OP_TITLES[op]} ≥ {factor:g}× faster than {peer}", None,
                                   f"{peer} not run"))
                    continue
                pe = s[peer][op]
                if not (d[op]["median"] and pe["median"]) or pe["state"] == "failed":
                    checks.append((f"{OP_TITLES[op]} ≥ {factor:g}× faster than {peer}", None,
                                   f"{peer}: {pe['state']}"))
                    continue
                x = pe["median"] / d[op]["median"]
                checks.append((f"{OP_TITLES[op]} ≥ {factor:g}× faster than {peer}", x >= factor,
                               f"{x:.1f}×"))
        for what, ok, val in checks:
            mark = "PASS" if ok else ("FAIL" if ok is False else "SKIP")
            p(f"- [{mark}] {what}: {val}")
    p("")
    notes = []
    for size in sizes:
        for t in tools:
            for op in OPS:
                for prob in summary[size][t][op].get("problems", []):
                    notes.append(f"- {t}, {size:,} files, {OP_TITLES[op]}: {prob}")
    if notes:
        p("## Notes (failures and incomplete runs)")
        p("")
        lines.extend(notes)
        p("")
    p("## What each tool ran")
    p("")
    p("- dotlink: first, noop, prune: `dotlink -q -m REPO/dotlink.toml apply`; status: `dotlink -q … status`"
      " (one `recursive = true` entry per package, `prune = true`)")
    for t in tools[1:]:
        tool_cls = {"stow": Stow, "dotter": Dotter, "tuckr": Tuckr, "dotbot": Dotbot}[t]
        p(f"- {t}: " + "; ".join(f"{op}: {tool_cls.op_notes[op]}" for op in OPS))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------


def default_tmpdir():
    """/dev/shm when it is a writable tmpfs, else the system default.

    On a disk filesystem, creating inodes (the symlinks and directories of a first apply) can
    cost the disk's latency rather than the tool's work: on the VM this suite was written on
    (ext4 on a virtual disk) every symlink() and mkdir() took ~1 ms once the journal was busy
    from copying the trees, which made every tool's first apply look the same. tmpfs measures
    the tools. Use --tmpdir to measure on a disk.
    """
    try:
        with open("/proc/mounts") as fh:
            for line in fh:
                f = line.split()
                if len(f) > 2 and f[1] == "/dev/shm" and f[2] == "tmpfs" and os.access("/dev/shm", os.W_OK):
                    return "/dev/shm"
    except OSError:
        pass
    return None


def filesystem_of(path):
    r = run_quiet(["df", "-T", "--", path])
    try:
        line = r.stdout.strip().splitlines()[-1].split()
        return line[1] + (f" on {line[0]}" if line[0].startswith("/") else "")
    except IndexError:
        return "unknown filesystem"


def on_sigterm(signum, frame):
    raise SystemExit(f"killed by signal {signum}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000",
                    help="comma-separated file counts (default 1000,10000; 100000 works too)")
    ap.add_argument("--runs", type=int, default=5, help="repetitions per measurement (default 5)")
    ap.add_argument("--peers", default=",".join(ALL_PEERS),
                    help="comma-separated peers, from stow,dotter,tuckr,dotbot (default all; '' for none)")
    ap.add_argument("--no-install", action="store_true", help="only use tools already installed")
    ap.add_argument("--no-strace", action="store_true", help="skip the strace pass")
    ap.add_argument("--no-mem", action="store_true", help="skip the peak-memory pass")
    ap.add_argument("--out", help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--tmpdir", help="where to make the temporary directory (default /dev/shm if "
                    "it is a tmpfs, else $TMPDIR; see bench/README.md)")
    ap.add_argument("--dotlink", help="dotlink binary (default target/release/dotlink)")
    ap.add_argument("--no-typical", action="store_true",
                    help="skip dotlink status on the typical ~300-link repository")
    ap.add_argument("--no-backups", action="store_true",
                    help="skip dotlink's 5,000 backups against 5,000 plain links")
    args = ap.parse_args()

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s < 100 for s in sizes):
        sys.exit("--sizes: give file counts of at least 100")
    if args.runs < 1:
        sys.exit("--runs must be at least 1")
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for pname in peers:
        if pname not in ALL_PEERS:
            sys.exit(f"--peers: unknown peer {pname!r} (known: {', '.join(ALL_PEERS)})")

    log("Finding tools …")
    dotlink = find_dotlink(args.dotlink)
    tools = [dotlink]
    peers_info = {}
    for pname in peers:
        t, why = find_peer(pname, not args.no_install)
        if t is None:
            log(f"  SKIP {pname}: {why}")
            peers_info[pname] = why
        else:
            log(f"  {pname}: {t.exe} ({t.version})")
            peers_info[pname] = None
            tools.append(t)
    strace = None
    if not args.no_strace:
        strace, why = find_strace(not args.no_install)
        if not strace:
            log(f"  no strace: {why}; syscall counts skipped")
    gtime = None
    if not args.no_mem:
        gtime, why = find_gnu_time(not args.no_install)
        if not gtime:
            log(f"  no GNU time: {why}; peak memory skipped")
    names = [t.name for t in tools]

    signal.signal(signal.SIGTERM, on_sigterm)
    tmp = tempfile.mkdtemp(prefix="dotlink-bench-", dir=args.tmpdir or default_tmpdir())
    fs = filesystem_of(tmp)
    log(f"Work directory: {tmp} ({fs})")
    # A private copy, so a `cargo build` in the repository during the run cannot swap it.
    os.makedirs(os.path.join(tmp, "bin"))
    dotlink.exe = shutil.copy2(dotlink.exe, os.path.join(tmp, "bin", "dotlink"))
    data = {"runs": {}, "strace": {}, "mem": {}}
    try:
        if not args.no_typical:
            log("== typical repository (dotlink status) ==")
            data["typical"] = measure_typical(dotlink, tmp, args.runs)
        if not args.no_backups:
            log(f"== {BACKUPS_SIZE:,} backups against {BACKUPS_SIZE:,} plain links (dotlink apply) ==")
            data["backups"] = measure_backups(dotlink, tmp, args.runs)
        for size in sizes:
            log(f"== {size:,} files ==")
            template = os.path.join(tmp, f"tree-{size}")
            os.makedirs(template)
            packages, files = generate_tree(template, size)
            removed, added = plan_mutation(packages, files, size)
            tree = (template, packages, files, removed, added, size)
            log(f"  generated {len(files):,} files in {len(packages)} packages; "
                f"mutation: -{len(removed)} +{len(added)}")
            data["runs"][size] = {t.name: [] for t in tools}
            data["strace"][size] = {}
            # The strace pass doubles as a warm-up (binaries, interpreters into the page cache).
            data["mem"][size] = {}
            for t in tools:
                ws = os.path.join(tmp, f"ws-{size}-{t.name}-strace")
                log(f"  {t.name}: {'strace' if strace else 'warm-up'} pass …")
                res = run_sequence(t, ws, tree, "strace" if strace else None, strace)
                if strace:
                    data["strace"][size][t.name] = {
                        op: {"calls": r.get("calls"), "per": r.get("per", {})}
                        for op, r in res.items() if r.get("state") != "n/a"}
                for op, r in res.items():
                    if r.get("state") in ("failed", "incomplete"):
                        log(f"    {t.name} {op}: {r['problem']}\n{r.get('log', '')}")
                if not args.keep:
                    rmtree(ws)
                if gtime:
                    ws = os.path.join(tmp, f"ws-{size}-{t.name}-mem")
                    log(f"  {t.name}: memory pass …")
                    res = run_sequence(t, ws, tree, "mem", gtime)
                    data["mem"][size][t.name] = {op: r.get("rss") for op, r in res.items()}
                    if not args.keep:
                        rmtree(ws)
            for rep in range(args.runs):
                for t in tools:
                    ws = os.path.join(tmp, f"ws-{size}-{t.name}-{rep}")
                    res = run_sequence(t, ws, tree)
                    data["runs"][size][t.name].append(res)
                    msg = "  ".join(f"{op} {fmt_time(r.get('time')) if 'time' in r else r['state']}"
                                    + ("" if r.get("state") in ("ok", "n/a") else f" [{r['state']}]")
                                    for op, r in res.items())
                    log(f"  run {rep + 1}/{args.runs} {t.name:8} {msg}")
                    for op, r in res.items():
                        if r.get("state") in ("failed", "incomplete") and rep == 0:
                            log(f"    {t.name} {op}: {r['problem']}\n{r.get('log', '')}")
                    if not args.keep:
                        rmtree(ws)
            if not args.keep:
                rmtree(template)
    finally:
        if args.keep:
            log(f"Kept {tmp}")
        else:
            rmtree(tmp)

    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "runs": args.runs,
        "workdir_fs": fs,
        "sizes": sizes,
        "versions": {t.name: t.version for t in tools},
        "skipped": {k: v for k, v in peers_info.items() if v},
    }
    summary = summarize(data, names, sizes)
    text = report(summary, names, sizes, peers_info, meta, strace is not None, gtime is not None)
    typical = data.get("typical")
    if typical:
        verdict = "PASS" if typical["median_ms"] < TARGET_TYPICAL_MS else "FAIL"
        text += (f"\n\n## Typical repository\n\n`dotlink status` on a repository shaped like a real "
                 f"one ({typical['links']} links: nvim, zsh, fish, tmux, alacritty trees, scripts, "
                 f"single files; globs and recursive entries), {typical['runs']} runs: median "
                 f"{typical['median_ms']:.2f} ms, best {typical['best_ms']:.2f} ms. "
                 f"Target under {TARGET_TYPICAL_MS:g} ms: {verdict}.")
    backups = data.get("backups")
    if backups:
        verdict = "PASS" if backups["ratio"] <= TARGET_BACKUP_RATIO else "FAIL"
        text += (f"\n\n## Backups\n\n`dotlink apply` of {backups['links']:,} links into an empty "
                 f"home: median {backups['plain_ms']:.1f} ms; the same with a regular file at "
                 f"every target, each moved to the backup set (`--on-conflict backup`): median "
                 f"{backups['backup_ms']:.1f} ms ({backups['runs']} runs each, interleaved). "
                 f"Ratio {backups['ratio']:.2f}; target at most {TARGET_BACKUP_RATIO:g}: {verdict}.")
    print(text)
    if args.out:
        raw = {str(size): {t: [{op: {k: v for k, v in r.items() if k not in ("log",)}
                                    for op, r in rep.items()} for rep in reps]
                           for t, reps in data["runs"][size].items()} for size in sizes}
        doc = {"meta": meta, "summary": {str(k): v for k, v in summary.items()}, "runs": raw,
               "typical": typical, "backups": backups}
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(doc, fh, indent=1)
        log(f"Wrote {args.out}")
    bad = [f"{size:,} files {op}" for size in sizes for op in OPS
           if summary[size]["dotlink"][op]["state"] not in ("ok", "n/a")]
    if bad:
        log("dotlink did not succeed on: " + "; ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
