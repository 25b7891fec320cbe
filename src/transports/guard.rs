//! The guards of the transports' routes: access's [`Reader`] and [`Listener`], each with the
//! meter of the technique its route serves. A route names its technique by the marker type
//! it gives the guard (`Connection<Sse>`), so the meter comes from that value, never from the
//! route's name or path, and the handler uses the channel the guard parsed.

use std::marker::PhantomData;
use std::time::SystemTime;

use rocket::request::{FromRequest, Outcome, Request};

use crate::access::slots::Slot;
use crate::access::{Listener, PublishRight, Reader};
use crate::error::AppError;
use crate::hub::Channel;
use crate::metrics::{Meter, Metrics, Publishes};
use crate::wire::Serves;

/// A request answered at once (a poll of technique `T`): may read `channel`, and `meter`
/// counts the answer.
#[derive(Debug)]
pub struct Poll<T> {
    pub channel: Channel,
    pub meter: Meter,
    of: PhantomData<T>,
}

/// A held connection of technique `T` (a long poll, a stream, a WebSocket): may subscribe to
/// `channel`, and holds its connection place and its meter until it is dropped.
#[derive(Debug)]
pub struct Connection<T> {
    pub channel: Channel,
    listener: Listener,
    meter: Meter,
    publishes: Publishes,
    of: PhantomData<T>,
}

/// What a held connection holds while it is open: its place under `[clients]` limits, its
/// meter, and the moment its token stops counting (when it was admitted with one), at which
/// the connection ends.
#[derive(Debug)]
pub struct Place {
    pub slot: Slot,
    pub meter: Meter,
    pub expiry: Option<SystemTime>,
}

impl<T> Connection<T> {
    /// The connection's place, meter and expiry, for the pump that serves it.
    pub fn place(self) -> Place {
        let (slot, expiry) = self.listener.hold();
        Place {
            slot,
            meter: self.meter,
            expiry,
        }
    }

    /// The connection's right to publish on its channel, with the counters of what becomes
    /// of each publish, when it has one.
    pub fn publisher(&self) -> Result<(PublishRight, Publishes), AppError> {
        let right = self.listener.publisher()?;
        Ok((right, self.publishes.clone()))
    }
}

#[rocket::async_trait]
impl<'r, T: Serves> FromRequest<'r> for Poll<T> {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        Reader::from_request(request).await.map(|reader| Poll {
            channel: reader.channel,
            meter: Metrics::meter(request, T::technique(request), false),
            of: PhantomData,
        })
    }
}

#[rocket::async_trait]
impl<'r, T: Serves> FromRequest<'r> for Connection<T> {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        Listener::from_request(request)
            .await
            .map(|listener| Connection {
                channel: listener.channel.clone(),
                listener,
                meter: Metrics::meter(request, T::technique(request), true),
                publishes: Publishes::of(request),
                of: PhantomData,
            })
    }
}
