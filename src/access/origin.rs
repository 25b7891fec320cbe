//! Which web pages may act on this site: publish, submit the piggyback form, open a
//! WebSocket or start an experiment. A browser names the page's origin in `Origin` on every
//! such request, so a request whose `Origin` is not one of this site's (or that says
//! `Sec-Fetch-Site: cross-site` without an `Origin`) comes from another site's page and is
//! refused. Requests without either header do not come from a browser and go on to the
//! token check.
//!
//! The list is `[site] origins` plus `push.allowed_origins`; it is never built from the
//! request's `Host`, which the client chooses (a DNS-rebinding page sends its own name as
//! both `Host` and `Origin`).

use rocket::request::Request;

use crate::error::AppError;

/// The origins that may act on this site.
#[derive(Debug, Clone)]
pub struct Origins {
    listed: Vec<String>,
    /// True when `[site] origins` was left empty: the loopback origins of the bound port
    /// count as this site's.
    loopback: bool,
}

/// An origin as browsers send it: lowercase, no trailing slash.
fn normal(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Origins {
    /// `site` is `[site] origins`, `others` is `push.allowed_origins`.
    pub fn new(site: &[String], others: &[String]) -> Result<Origins, String> {
        for origin in site.iter().chain(others) {
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.trim_end_matches('/').contains('/')) {
                return Err(format!(
                    "`{origin}` is not an origin: write scheme, host and port only, such as \
                     `https://push.example.org` or `http://127.0.0.1:8000`"
                ));
            }
        }
        Ok(Origins {
            listed: site.iter().chain(others).map(|o| normal(o)).collect(),
            loopback: site.is_empty(),
        })
    }

    /// Whether a page served from `origin` is this site's, when the server listens on `port`.
    pub fn allows(&self, origin: &str, port: u16) -> bool {
        let origin = normal(origin);
        if self.listed.contains(&origin) {
            return true;
        }
        if !self.loopback {
            return false;
        }
        let suffix = if port == 80 {
            String::new()
        } else {
            format!(":{port}")
        };
        ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|host| origin == format!("http://{host}{suffix}"))
    }

    /// Refuses a request made by another site's page.
    pub fn check(&self, request: &Request<'_>) -> Result<(), AppError> {
        let headers = request.headers();
        match headers.get_one("Origin") {
            Some(origin) if self.allows(origin, request.rocket().config().port) => Ok(()),
            Some(_) => Err(AppError::Forbidden(
                "pages from this origin may not publish, post forms, open WebSockets or start \
                 experiments here (the site's own origins are listed in [site] origins)"
                    .into(),
            )),
            None if headers.get_one("Sec-Fetch-Site") == Some("cross-site") => Err(
                AppError::Forbidden("cross-site requests may not act on this site".into()),
            ),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_default_and_never_other_hosts() {
        let origins = Origins::new(&[], &["https://example.org".into()]).unwrap();
        assert!(origins.allows("http://127.0.0.1:8000", 8000));
        assert!(origins.allows("http://LOCALHOST:8000/", 8000));
        assert!(origins.allows("https://example.org", 8000));
        assert!(!origins.allows("http://127.0.0.1:8001", 8000));
        assert!(!origins.allows("http://evil.example", 8000));
        assert!(!origins.allows("null", 8000));
        let site = Origins::new(&["https://push.example.org".into()], &[]).unwrap();
        assert!(site.allows("https://push.example.org", 8000));
        assert!(!site.allows("http://127.0.0.1:8000", 8000));
        assert!(Origins::new(&["push.example.org".into()], &[]).is_err());
        assert!(Origins::new(&["https://a.org/path".into()], &[]).is_err());
    }
}
