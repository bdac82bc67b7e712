//! Fuzz manifest parsing, checking and expansion against a small real repository. Beyond "no
//! panic", every manifest that is accepted must keep dotlink's promises: sources inside the
//! repository, targets inside the home unless the entry opts out, no target claimed twice.
#![no_main]

use dotlink::context::Context;
use dotlink::manifest::{self, Sources};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::OnceLock;

struct World {
    _root: tempfile::TempDir,
    manifest: PathBuf,
    ctx: Context,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().canonicalize().unwrap();
        let repo = base.join("repo");
        for file in ["a", "zsh/zshrc", "nvim/init.lua", "nvim/lua/x.lua", "config/git/config", "config/tmux.conf", "bin/tool"] {
            let path = repo.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, file).unwrap();
        }
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::write(base.join("outside/secret"), "secret").unwrap();
        symlink(base.join("outside/secret"), repo.join("escape")).unwrap();
        symlink("zsh/zshrc", repo.join("inside")).unwrap();
        symlink("loop", repo.join("loop")).unwrap();
        let home = base.join("home");
        std::fs::create_dir_all(&home).unwrap();
        World {
            manifest: repo.join("dotlink.toml"),
            ctx: Context {
                home,
                state_dir: base.join("state/dotlink"),
                cwd: repo,
                machine: dotlink::context::Machine {
                    os: "linux".into(),
                    hostname: "fuzz-host".into(),
                    chosen_profiles: None,
                },
            },
            _root: root,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let world = world();
    let Ok(parsed) = manifest::parse(&world.manifest, text, &world.ctx) else {
        return;
    };
    for entry in &parsed.entries {
        // A skipped entry may keep a target written for another machine (never linked here).
        if entry.skip.is_some() && !entry.target.is_absolute() {
            continue;
        }
        assert!(entry.target.is_absolute());
        assert!(entry.allow_outside_home || entry.target.starts_with(&world.ctx.home), "{:?}", entry.target);
        assert!(!entry.target.starts_with(&parsed.repo), "{:?}", entry.target);
    }
    let Ok(specs) = manifest::expand(&parsed, Sources::Require) else {
        return;
    };
    let mut targets = HashSet::new();
    for spec in &specs {
        assert!(spec.source.starts_with(&parsed.repo), "{:?}", spec.source);
        let real = spec.source.canonicalize().unwrap();
        assert!(real.starts_with(&parsed.repo), "{:?} resolves to {:?}", spec.source, real);
        assert!(targets.insert(spec.target.clone()), "{:?} twice", spec.target);
        assert!(!spec.target.starts_with(&parsed.repo), "{:?}", spec.target);
    }
});
