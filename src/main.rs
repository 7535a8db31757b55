use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use paddock::clock::SystemClock;
use paddock::config::Config;
use paddock::storage::file_log::FileLog;
use paddock::storage::recovery::recover;

/// Paddock: a ZooKeeper-compatible coordination service.
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// A Java ZooKeeper zoo.cfg. Without one, Paddock runs standalone on 127.0.0.1:2181 with
    /// data under ./data.
    config_file: Option<PathBuf>,
    /// The same, as an option.
    #[arg(long = "config", conflicts_with = "config_file")]
    config: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Print what a txn log (version-2/log.<zxid>) holds; works on Java ZooKeeper's logs too.
    LogDump { file: PathBuf },
    /// Print what a snapshot (version-2/snapshot.<zxid>) holds; works on Java ZooKeeper's too.
    SnapshotDump { file: PathBuf },
    /// Delete old snapshots and logs, keeping the COUNT newest snapshots (at least 3) and the
    /// logs they need, like ZooKeeper's PurgeTxnLog: `purge DATA_LOG_DIR [SNAP_DIR] -n COUNT`.
    Purge {
        data_log_dir: PathBuf,
        snap_dir: Option<PathBuf>,
        #[arg(short = 'n', default_value_t = 3)]
        count: usize,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if let Some(cmd) = args.command {
        let out = match cmd {
            Command::LogDump { file } => paddock::storage::dump::log_dump(&file),
            Command::SnapshotDump { file } => paddock::storage::dump::snapshot_dump(&file),
            Command::Purge {
                data_log_dir,
                snap_dir,
                count,
            } => {
                let logs = data_log_dir.join("version-2");
                let snaps = snap_dir.unwrap_or(data_log_dir).join("version-2");
                paddock::storage::purge::purge(&snaps, &logs, count)
                    .map(|gone| {
                        gone.iter()
                            .map(|p| format!("removed {}\n", p.display()))
                            .collect()
                    })
                    .map_err(|e| e.to_string())
            }
        };
        return match out {
            Ok(text) => {
                // A reader that stops early (`| head`) closes the pipe: that ends the output, it
                // is not an error worth a panic.
                let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("paddock: {e}");
                ExitCode::from(1)
            }
        };
    }
    let cfg = match args.config_file.or(args.config) {
        Some(path) => match Config::from_file(&path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("paddock: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    let compression = match cfg.snapshot_compression() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("paddock: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = cfg.read_myid() {
        eprintln!("paddock: {e}");
        return ExitCode::from(2);
    }
    if !cfg.servers.is_empty() {
        tracing::warn!(
            "server.N lines found: ensemble mode is not implemented yet; running standalone"
        );
    }
    if let Err(e) = std::fs::create_dir_all(&cfg.data_dir) {
        eprintln!(
            "paddock: cannot create dataDir {}: {e}",
            cfg.data_dir.display()
        );
        return ExitCode::from(2);
    }
    let snap_dir = cfg.data_dir.join("version-2");
    let log_dir = cfg.log_dir().join("version-2");
    let state = match recover(&snap_dir, &log_dir, cfg.extended_types_enabled) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "paddock: cannot recover from {} and {}: {e}",
                snap_dir.display(),
                log_dir.display()
            );
            return ExitCode::from(1);
        }
    };
    let log = match FileLog::open(
        &log_dir,
        cfg.prealloc_bytes(),
        cfg.force_sync(),
        cfg.fsync_warning_ms(),
    ) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "paddock: cannot open the txn log in {}: {e}",
                log_dir.display()
            );
            return ExitCode::from(1);
        }
    };
    // The one place randomness is seeded; everything else draws from the Rng it is handed.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut snapshots = paddock::storage::snap_policy::SnapPolicy::new(
        snap_dir.clone(),
        cfg.snap_count(),
        Box::new(paddock::clock::SeededRng::new(seed)),
    );
    snapshots.compression = compression;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let addr = cfg.client_addr();
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("paddock: cannot listen on {addr}: {e}");
                return ExitCode::from(1);
            }
        };
        tracing::info!(%addr, data_dir = %cfg.data_dir.display(), "paddock serving (standalone)");
        if let Some((every, keep)) = cfg.autopurge() {
            let (snaps, logs) = (snap_dir.clone(), log_dir.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let (s, l) = (snaps.clone(), logs.clone());
                    match tokio::task::spawn_blocking(move || {
                        paddock::storage::purge::purge(&s, &l, keep)
                    })
                    .await
                    {
                        Ok(Err(e)) => tracing::warn!(error = %e, "autopurge failed"),
                        Err(e) => tracing::warn!(error = %e, "autopurge task failed"),
                        Ok(Ok(_)) => {}
                    }
                }
            });
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        };
        paddock::server::run(
            cfg,
            listener,
            Arc::new(SystemClock::new()),
            log,
            state,
            Some(snapshots),
            shutdown,
        )
        .await;
        ExitCode::SUCCESS
    })
}
