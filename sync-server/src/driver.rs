//! One background runtime per process for the network clients behind the
//! synchronous storage interfaces (PostgreSQL connections, the S3 client).
//!
//! Store and media calls are synchronous (rules run between reads and writes
//! of one transaction, on a blocking thread), but their clients are async.
//! Waiting for a future on this runtime through a plain channel is legal on
//! any thread — a blocking-pool thread, an admin command, a test's runtime
//! thread — where tokio's own `block_on` would panic inside a runtime.

use std::sync::OnceLock;

fn driver() -> &'static tokio::runtime::Runtime {
    // Lives as long as the process: dropping a runtime from async code panics.
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("storage-driver")
            .enable_all()
            .build()
            .expect("start the storage driver runtime")
    })
}

/// Run `fut` on the driver runtime and wait for its output.
pub fn block_on<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    driver().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the driver runtime runs every task it is given")
}
