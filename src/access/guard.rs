//! The request guards every route checks through. Each finds the channel in the route's
//! one dynamic path segment (routes without one, the piggyback form, read `?channel=`, the
//! shared channel by default), resolves the caller once per request and applies one rule set:
//!
//! - [`Reader`]: may subscribe (polling, JSONP polling, piggyback).
//! - [`Listener`]: may subscribe, and holds a connection place while it is open (streams,
//!   long polls, WebSockets).
//! - [`Writer`]: a page of this site or no browser at all, may publish, and within its rate.
//! - [`SameSite`]: a page of this site or no browser at all (the piggyback form, the
//!   WebSocket handshake and starting an experiment).
//! - [`Operator`]: may use an operator's endpoint (`/metrics`, starting an experiment):
//!   anyone on a server that listens on loopback, only a token holder elsewhere.
//!
//! The transports add their technique's meter to [`Reader`] and [`Listener`]
//! (`crate::transports::guard`); nothing here counts, so access needs nothing from the
//! metrics.
//!
//! [`Reader`] and [`Listener`] also tell the channel's [`Audience`], when one is managed, that
//! someone listens: a read now, or a presence for as long as the connection is open.
//!
//! A refusal is kept in the request's local cache, where the catchers find its message and
//! its `Retry-After` (see [`crate::error::Refused`]).

use std::marker::PhantomData;
use std::time::SystemTime;

use rocket::request::{FromRequest, Outcome, Request};

use super::audience::Audience;
use super::rate::Publisher;
use super::slots::Slot;
use super::token;
use super::{Access, Action, Caller};
use crate::error::{AppError, Refused};
use crate::hub::Channel;
use crate::wire::{self, visitor};

/// May subscribe to `channel`.
#[derive(Debug)]
pub struct Reader {
    pub channel: Channel,
}

/// May subscribe to `channel` and holds a connection place until dropped.
#[derive(Debug)]
pub struct Listener {
    pub channel: Channel,
    slot: Slot,
    caller: Caller,
    access: Access,
}

impl Listener {
    /// The connection's place under `[clients]` limits, and the moment its token stops
    /// counting (when it was admitted with one), at which the connection ends.
    pub fn hold(self) -> (Slot, Option<SystemTime>) {
        let expiry = self
            .caller
            .grant
            .as_ref()
            .map(|g| token::deadline(g.expires));
        (self.slot, expiry)
    }

    /// The connection's right to publish on its channel (the WebSocket publishes what the
    /// browser sends), when it has one.
    pub fn publisher(&self) -> Result<PublishRight, AppError> {
        self.access
            .authorize(&self.caller, Action::Publish, &self.channel)
            .map(|()| PublishRight {
                access: self.access.clone(),
                publisher: self.caller.publisher(),
                expires: self.caller.grant.as_ref().map(|g| g.expires),
            })
    }
}

/// A long-lived connection's right to publish, checked again for every message: within the
/// caller's rate, and only while the token it was granted with has not expired.
#[derive(Debug)]
pub struct PublishRight {
    access: Access,
    publisher: Publisher,
    expires: Option<u64>,
}

impl PublishRight {
    /// Counts one message; `Err` carries why it may not be published (a close reason).
    pub fn admit(&self) -> Result<(), &'static str> {
        if self.expires.is_some_and(token::expired) {
            Err(token::EXPIRED)
        } else if self.access.count_publish(&self.publisher).is_err() {
            Err("too many messages: wait a moment, then reconnect")
        } else {
            Ok(())
        }
    }
}

/// May publish on `channel`, and this publish is within the caller's rate.
#[derive(Debug)]
pub struct Writer {
    pub channel: Channel,
    publisher: Publisher,
    access: Access,
}

impl Writer {
    /// Counts `more` publishes beyond the one the guard counted, for a request that publishes
    /// several events: 429 with `Retry-After` when they do not fit the caller's rate.
    pub fn spend(&self, more: u32) -> Result<(), AppError> {
        match std::num::NonZeroU32::new(more) {
            Some(n) => self.access.count_publishes(&self.publisher, n),
            None => Ok(()),
        }
    }
}

/// The request comes from a page of this site, or not from a browser.
#[derive(Debug)]
pub struct SameSite;

/// An operator's endpoint, as [`Operator`] admits it.
pub trait Endpoint: Send + Sync + 'static {
    /// What a 401 says when a token is needed and missing.
    const NEEDS: &'static str;

    /// True when the endpoint is open to anyone even on an address other than loopback
    /// (`[metrics] public`).
    fn open(_request: &Request<'_>) -> bool {
        false
    }
}

/// May use the operator's endpoint `E`: always when the server listens on a loopback
/// address or `E` is open, else only with a valid token, whatever it covers.
pub struct Operator<E>(PhantomData<E>);

/// Refuses with `error`, leaving it for the catcher.
pub fn refuse<T>(request: &Request<'_>, error: AppError) -> Outcome<T, AppError> {
    let status = error.status();
    request.local_cache(|| Refused(Some(error.clone())));
    Outcome::Error((status, error))
}

fn access<'r>(request: &'r Request<'_>) -> Result<&'r Access, AppError> {
    request
        .rocket()
        .state::<Access>()
        .ok_or_else(|| AppError::Unavailable("access control is not configured".into()))
}

/// The channel this route acts on: the route's one dynamic path segment, else `?channel=`,
/// else the shared channel.
fn channel(request: &Request<'_>) -> Result<Channel, AppError> {
    let segment = request.route().and_then(|route| {
        route
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .position(|s| s.starts_with('<'))
    });
    let name = match segment {
        Some(n) => request.routed_segment(n),
        None => match request.query_value::<&str>("channel") {
            Some(Ok(name)) => Some(name),
            _ => Some(visitor::SHARED),
        },
    };
    wire::channel(name.unwrap_or_default())
}

/// The caller, resolved once per request however many guards ask.
fn caller<'r>(request: &'r Request<'_>, access: &Access) -> &'r Result<Caller, AppError> {
    request.local_cache(|| access.caller(request))
}

/// The channel of the route and its caller, when the caller may subscribe to it.
fn subscriber<'r>(
    request: &'r Request<'_>,
    access: &Access,
) -> Result<(Channel, &'r Caller), AppError> {
    let channel = channel(request)?;
    let caller = caller(request, access).as_ref().map_err(Clone::clone)?;
    access.authorize(caller, Action::Subscribe, &channel)?;
    Ok((channel, caller))
}

/// Runs `check` and turns its error into a refusal.
fn guard<T>(
    request: &Request<'_>,
    check: impl FnOnce(&Access) -> Result<T, AppError>,
) -> Outcome<T, AppError> {
    match access(request).and_then(check) {
        Ok(value) => Outcome::Success(value),
        Err(error) => refuse(request, error),
    }
}

#[rocket::async_trait]
impl<'r, E: Endpoint> FromRequest<'r> for Operator<E> {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        if E::open(request) || request.rocket().config().address.is_loopback() {
            return Outcome::Success(Operator(PhantomData));
        }
        guard(request, |access| match caller(request, access) {
            Ok(caller) if caller.grant.is_some() => Ok(Operator(PhantomData)),
            Ok(_) => Err(AppError::Unauthorized(E::NEEDS.to_owned())),
            Err(error) => Err(error.clone()),
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Reader {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        guard(request, |access| {
            let (channel, _) = subscriber(request, access)?;
            if let Some(audience) = request.rocket().state::<Audience>() {
                audience.heard(&channel);
            }
            Ok(Reader { channel })
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Listener {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        guard(request, |access| {
            let (channel, caller) = subscriber(request, access)?;
            let mut slot = access.hold(caller)?;
            if let Some(audience) = request.rocket().state::<Audience>() {
                slot = slot.attend(audience.presence(&channel));
            }
            Ok(Listener {
                channel,
                slot,
                caller: caller.clone(),
                access: access.clone(),
            })
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Writer {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        guard(request, |access| {
            access.check_origin(request)?;
            let channel = channel(request)?;
            let caller = caller(request, access).as_ref().map_err(Clone::clone)?;
            access.authorize(caller, Action::Publish, &channel)?;
            let publisher = caller.publisher();
            access.count_publish(&publisher)?;
            Ok(Writer {
                channel,
                publisher,
                access: access.clone(),
            })
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameSite {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        guard(request, |access| {
            access.check_origin(request).map(|()| SameSite)
        })
    }
}

#[cfg(test)]
mod tests {
    use rocket::figment::Figment;

    use super::*;
    use crate::access::token::{LEEWAY, expiry};

    fn right(expires: Option<u64>) -> PublishRight {
        PublishRight {
            access: Access::from_figment(&Figment::new()).expect("the defaults"),
            publisher: Publisher::Holder("ada".into()),
            expires,
        }
    }

    #[test]
    fn a_connection_stops_publishing_once_its_token_expires() {
        let now = expiry(std::time::Duration::ZERO);
        assert_eq!(right(Some(now + 60)).admit(), Ok(()));
        assert_eq!(right(Some(now - 1)).admit(), Ok(()), "within the leeway");
        let late = right(Some(now - LEEWAY - 2)).admit();
        assert!(late.is_err_and(|why| why.contains("expired")));
        assert_eq!(right(None).admit(), Ok(()), "anonymous: no token to expire");
    }
}
