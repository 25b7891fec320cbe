//! The real application on a socket of its own, for every suite that needs one: it launches
//! on the test's runtime and reports the port Rocket bound, the hub it manages and a handle
//! to stop it.

use std::sync::Mutex;
use std::time::Duration;

use reverse_ajax::hub::Hub;
use rocket::Shutdown;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest a launch may take to lift off, and a stop to end.
const LIMIT: Duration = Duration::from_secs(15);

/// The tests' configuration ([`super::figment`]) served on 127.0.0.1, on a port the kernel
/// picks, without a Ctrl-C handler.
pub fn config() -> Figment {
    super::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("shutdown.ctrlc", false))
}

/// What a launch reports once the application has lifted off.
pub struct Launched {
    pub port: u16,
    pub hub: Hub,
    pub server: Server,
}

/// A running server: the handle that stops it and the task that serves.
pub struct Server {
    shutdown: Shutdown,
    task: JoinHandle<Result<(), String>>,
}

/// Launches the application with `figment` (see [`config`]) and waits until it has
/// lifted off; a launch that fails or takes too long fails the test with the reason.
pub async fn launch(figment: Figment) -> Launched {
    let (tell, told) = oneshot::channel();
    let tell = Mutex::new(Some(tell));
    let report = AdHoc::on_liftoff("Report the port to the test", move |rocket| {
        let found = (
            rocket.config().port,
            rocket.state::<Hub>().cloned(),
            rocket.shutdown(),
        );
        if let Some(tell) = tell.lock().ok().and_then(|mut tell| tell.take()) {
            // The test may have given up waiting already; it fails on its own then.
            let _sent = tell.send(found);
        }
        Box::pin(async {})
    });
    let rocket = reverse_ajax::rocket_from(figment).attach(report);
    let task = tokio::spawn(async move {
        // Formatting the error marks it handled, so that Rocket does not panic on its drop.
        rocket.launch().await.map(drop).map_err(|e| e.to_string())
    });
    match tokio::time::timeout(LIMIT, told).await {
        Ok(Ok((port, Some(hub), shutdown))) => Launched {
            port,
            hub,
            server: Server { shutdown, task },
        },
        Ok(Ok((_, None, _))) => panic!("the application manages no hub"),
        Ok(Err(_)) => match task.await {
            Ok(Err(e)) => panic!("the application failed to launch: {e}"),
            other => panic!("the application stopped before liftoff: {other:?}"),
        },
        Err(_) => panic!("the application did not lift off within {LIMIT:?}"),
    }
}

impl Server {
    /// Starts a graceful shutdown, as Ctrl-C would, without waiting for it.
    pub fn notify(&self) {
        self.shutdown.clone().notify();
    }

    /// Shuts the server down and waits until it has stopped; `Err` says how it did not end
    /// cleanly. A server that does not stop within the limit fails the test: it would hang.
    pub async fn stop(self) -> Result<(), String> {
        self.shutdown.notify();
        match tokio::time::timeout(LIMIT, self.task).await {
            Ok(Ok(ended)) => ended,
            Ok(Err(e)) => Err(format!("the server task failed: {e}")),
            Err(_) => panic!("the server did not stop within {LIMIT:?}"),
        }
    }
}
