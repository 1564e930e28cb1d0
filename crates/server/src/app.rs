//! Building and running the server: open the store, load the demo if asked, bind, serve until
//! SIGINT or SIGTERM, then finish in-flight requests and close the database cleanly.

use crate::cli::{Cli, ServeArgs};
use crate::demo::{self, DemoOutcome};
use crate::state::{AppState, Settings};
use crate::{telemetry, web};
use marquee_store::Change;
use std::net::SocketAddr;

pub async fn serve(cli: &Cli, args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_json);
    let data_dir = cli.data_dir.as_path();
    let store = cli.open_store().await?;
    tracing::info!(backend = store.name(), "database open");
    if args.demo {
        match demo::load(store.as_ref()).await? {
            DemoOutcome::Loaded {
                films,
                admin_password,
            } => {
                println!("Loaded the demo catalog: {films} films with reviews.");
                println!(
                    "  Demo admin:     username 'admin', password '{admin_password}' (shown once)"
                );
                println!(
                    "  Demo reviewers: e.g. username 'ada', password '{}'",
                    demo::DEMO_PASSWORD
                );
            }
            DemoOutcome::AlreadyHasFilms => {
                println!("The database already has films; the demo catalog was not loaded.")
            }
        }
    }
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let settings = Settings {
        public_url: public_url.trim_end_matches('/').to_owned(),
        data_dir: data_dir.to_path_buf(),
        signin_failures_allowed: 5,
        signin_window_ms: 15 * 60 * 1000,
        trusted_proxies: args.trusted_proxies.clone(),
        media_url: cli.media_url.clone(),
    };
    let state = AppState::new(store.clone(), settings).await?;
    if store_is_new(&state).await? {
        println!(
            "No accounts yet: open {public_url}/signup — the first account created becomes the administrator."
        );
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // Follow other instances' changes before saying we are ready, so no write announced after
    // the readiness line can be missed. Only without a feed (SQLite: one process owns the file)
    // is polling needed to notice `marquee movie …` run beside the server; with a feed, those
    // commands announce their changes like any instance.
    let background = [
        match store.subscribe().await? {
            Some(feed) => tokio::spawn(follow_changes(state.clone(), feed)),
            None => tokio::spawn(watch_catalog(state.clone())),
        },
        tokio::spawn(housekeeping(state.clone(), crate::auth::random_token())),
    ];
    // HLS packaging, one job at a time; `--no-worker` leaves it to other instances.
    let lease = std::time::Duration::from_secs(args.job_lease_secs);
    let worker = (!args.no_worker).then(|| crate::packaging::WorkerHandle::spawn(&state, lease));
    println!("Marquee is ready at http://{addr}/");
    let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Some(w) = worker {
        w.stop().await;
    }
    // Stopped before the pool closes: a poll or a purge that met the closed pool would log a
    // warning about a database that is only shutting down.
    for task in background {
        task.abort();
        let _ = task.await;
    }
    store.close().await;
    println!("Marquee stopped.");
    Ok(())
}

/// Deletes expired sessions, stale sign-in counters and expired device codes once a minute.
/// With several instances the job's lease makes exactly one of them do it; if that one stops,
/// another takes over when the lease expires.
async fn housekeeping(state: AppState, instance: String) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(60);
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let now = marquee_domain::time_fmt::now_ms();
        match state
            .store
            .claim_lease("housekeeping", &instance, now, 2 * EVERY.as_millis() as i64)
            .await
        {
            Ok(true) => {
                match state.store.purge_expired(now, now - 24 * 3600 * 1000).await {
                    Ok(n) => tracing::debug!(rows = n, "housekeeping done"),
                    Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
                }
                // Device sign-in codes live ten minutes; used and refused ones go with them.
                if let Err(e) = state.store.purge_device_codes(now).await {
                    tracing::warn!(error = %e, "purging expired device codes failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot claim the housekeeping lease"),
        }
    }
}

/// Applies changes announced by other instances (and our own, harmlessly) to the page cache.
async fn follow_changes(state: AppState, mut feed: tokio::sync::mpsc::Receiver<Change>) {
    while let Some(change) = feed.recv().await {
        state.forget(change);
    }
}

/// Notices films added, edited or removed by another process (`marquee movie …` while the
/// server runs) and drops the cached pages, so nobody is shown a stale title page for long.
async fn watch_catalog(state: AppState) {
    let mut last = state.store.catalog_fingerprint().await.ok();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tick.tick().await;
        match state.store.catalog_fingerprint().await {
            Ok(now) if Some(now) != last => {
                state.forget(Change::Reset);
                last = Some(now);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check the catalog for changes"),
        }
    }
}

async fn store_is_new(state: &AppState) -> anyhow::Result<bool> {
    Ok(state.store.count_users().await? == 0)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
