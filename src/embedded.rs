//! The files compiled into the binary by `build.rs`: the static files, the templates and the
//! bundled postal data, so that the server needs nothing beside it to run.

/// One file as it was in the source tree when the binary was built.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedFile {
    /// Its path under its folder, with `/` between segments (`css/site.css`).
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// Its modification time, in seconds since the Unix epoch.
    pub modified: u64,
}

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The compiled-in file `path` of `folder` (one of [`STATIC`], [`TEMPLATES`], [`POSTAL`]).
pub fn find(folder: &'static [EmbeddedFile], path: &str) -> Option<&'static EmbeddedFile> {
    folder.iter().find(|f| f.path == path)
}
