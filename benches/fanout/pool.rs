//! The threads that run the subscribers (`--threads`, 1 by default): each one a
//! single-threaded tokio runtime with its own share of the connections. Unlike one
//! work-stealing runtime, the threads never wake each other up, and a busy thread reads each
//! socket less often but gets more events per read, which keeps the generator's own CPU cost
//! per delivery low.

use std::future::Future;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Pool {
    handles: Vec<Handle>,
    /// Dropping these ends the threads.
    _stops: Vec<oneshot::Sender<()>>,
    next: usize,
}

impl Pool {
    /// Starts `threads` runtime threads.
    pub fn new(threads: usize) -> Result<Pool, String> {
        let mut handles = Vec::new();
        let mut stops = Vec::new();
        for n in 0..threads.max(1) {
            let runtime = Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("could not build a subscriber runtime: {e}"))?;
            handles.push(runtime.handle().clone());
            let (stop, stopped) = oneshot::channel::<()>();
            stops.push(stop);
            std::thread::Builder::new()
                .name(format!("subscribers-{n}"))
                .spawn(move || {
                    // Ends when the pool is dropped (the sender goes away).
                    let _ended = runtime.block_on(stopped);
                })
                .map_err(|e| format!("could not start a subscriber thread: {e}"))?;
        }
        Ok(Pool {
            handles,
            _stops: stops,
            next: 0,
        })
    }

    /// Runs `task` on the next thread in turn.
    pub fn spawn<F>(&mut self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = &self.handles[self.next % self.handles.len()];
        self.next += 1;
        handle.spawn(task)
    }
}
