//! Where the page templates come from: Rocket's `template_dir` when it names a folder that
//! exists (the repository's `Rocket.toml` says `templates`, so `cargo run` in a checkout
//! reloads templates as they are edited), else the copies compiled into the binary, so an
//! installed binary runs from any directory.

use std::path::PathBuf;

use rocket::fairing::Fairing;
use rocket::figment::Figment;
use rocket::figment::value::magic::RelativePathBuf;
use rocket_dyn_templates::Template;

use crate::embedded;

/// The templating fairing and the configuration it reads, for `figment`.
pub fn templates(figment: Figment) -> (Figment, impl Fairing) {
    let on_disk = figment
        .extract_inner::<RelativePathBuf>("template_dir")
        .ok()
        .map(|dir| dir.relative())
        .filter(|dir| dir.is_dir());
    let compiled_in = on_disk.is_none();
    let figment = match on_disk {
        Some(_) => figment,
        // The fairing insists on a path that exists, and registers the `.tera` files it finds
        // there. The binary itself is one and holds none, so only the compiled-in ones count.
        None => figment.merge((
            "template_dir",
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/")),
        )),
    };
    let fairing = Template::try_custom(move |engines| {
        if !compiled_in {
            return Ok(());
        }
        let mut all = Vec::new();
        for file in embedded::TEMPLATES {
            let Some(name) = file.path.strip_suffix(".html.tera") else {
                continue;
            };
            let text = std::str::from_utf8(file.bytes)
                .map_err(|e| format!("template {} is not UTF-8: {e}", file.path))?;
            all.push((name, text));
        }
        engines.tera.add_raw_templates(all)?;
        Ok(())
    });
    (figment, fairing)
}
