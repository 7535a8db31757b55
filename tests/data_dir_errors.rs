//! A data dir the server cannot use gets a clear message naming the path, never a panic and
//! never a server that pretends: a read-only or uncreatable dataDir and foreign files refuse
//! to start; a disk that fills up under load stops acknowledging writes and says so.
//!
//! The read-only and full disks are real: a read-only bind mount and a small tmpfs, made in
//! a private mount namespace with `unshare --map-root-user --mount`, so the test needs no
//! privileges beyond user namespaces and leaves no mount behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use zookeeper_client as zk;

mod common;
use common::free_port;

fn write_cfg(dir: &Path, data_dir: &Path, port: u16, extra: &str) -> std::path::PathBuf {
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n{extra}",
            data_dir.display()
        ),
    )
    .unwrap();
    cfg
}

/// Runs the server to completion with a bound on its run time; it must exit by itself.
fn run_to_exit(mut cmd: Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("the server did not exit on a data dir it cannot use");
        }
    }
}

fn paddock(cfg: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paddock"));
    c.arg(cfg);
    c
}

/// `sh -c script` in a private mount namespace, the script ending in `exec paddock cfg`.
fn in_mount_namespace(script: &str, cfg: &Path) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--map-root-user", "--mount", "sh", "-c"])
        .arg(format!("{script} && exec \"$0\" \"$1\""))
        .arg(env!("CARGO_BIN_EXE_paddock"))
        .arg(cfg);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn read_only_data_dir_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("version-2")).unwrap();
    let cfg = write_cfg(tmp.path(), &data, free_port(), "");
    let d = data.display();
    let out = run_to_exit(in_mount_namespace(
        &format!("mount --bind {d} {d} && mount -o remount,bind,ro {d}"),
        &cfg,
    ));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot write to data directory {d}/version-2"))
            && err.contains("Read-only file system"),
        "{err}"
    );
}

#[test]
fn uncreatable_data_dir_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let data = file.join("data");
    let cfg = write_cfg(tmp.path(), &data, free_port(), "");
    let out = run_to_exit(paddock(&cfg));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot create dataDir {}", data.display())),
        "{err}"
    );
}

#[test]
fn foreign_files_in_the_data_dir_are_refused_naming_them() {
    // A txn log that is not one (wrong magic) and, separately, a snapshot that is not one.
    for (name, expect) in [("log.1", "log.1"), ("snapshot.1", "no snapshot in")] {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let v2 = data.join("version-2");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join(name), b"this is not a ZooKeeper file at all").unwrap();
        let cfg = write_cfg(tmp.path(), &data, free_port(), "");
        let out = run_to_exit(paddock(&cfg));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(expect) && err.contains(&v2.display().to_string()),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_acknowledgements_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    // Small preallocation steps, so the log grows into the full disk as it would on a real one.
    let cfg = write_cfg(
        tmp.path(),
        &data,
        port,
        "preAllocSize=64\n4lw.commands.whitelist=*\n",
    );
    let log = tmp.path().join("server.log");
    let d = data.display();
    let mut cmd = in_mount_namespace(&format!("mount -t tmpfs -o size=256k tmpfs {d}"), &cfg);
    let out = std::fs::File::create(&log).unwrap();
    let mut server = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let client = common::within("connect", Duration::from_secs(20), async {
        loop {
            if let Ok(c) = zk::Client::connect(&addr).await {
                break c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let reader = zk::Client::connect(&addr).await.unwrap();
    let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let value = vec![b'x'; 8 * 1024];
    let mut acknowledged = Vec::new();
    let mut stuck = false;
    for i in 0..200 {
        let path = format!("/n{i}");
        match tokio::time::timeout(Duration::from_secs(3), client.create(&path, &value, &opts))
            .await
        {
            Ok(Ok(_)) => acknowledged.push(path),
            // The client gives up on a connection whose replies stop (pings queue behind the
            // stuck write): that too is "not acknowledged". An error code would be a lie.
            Ok(Err(e))
                if !(e.to_string().contains("no response") || e == zk::Error::ConnectionLoss) =>
            {
                panic!("a write failed with {e} instead of waiting unacknowledged")
            }
            Ok(Err(_)) | Err(_) => {
                stuck = true;
                break;
            }
        }
    }
    assert!(
        stuck,
        "256 KiB filled with 200 writes of 8 KiB, yet all were acknowledged"
    );
    assert!(
        !acknowledged.is_empty(),
        "nothing fit before the disk was full"
    );
    // The server still serves what it acknowledged to a session that existed before (a new
    // session would be a write), and says it is unwell.
    for p in &acknowledged {
        let (data, _) = reader.get_data(p).await.unwrap();
        assert!(data == value, "{p} came back different");
    }
    assert_eq!(common::four_letter(port, "ruok").await.unwrap(), "");
    let mntr = common::four_letter(port, "mntr").await.unwrap();
    assert!(mntr.contains("zk_unrecoverable_error_count\t1"), "{mntr}");
    let _ = Command::new("kill")
        .arg("-9")
        .arg(server.id().to_string())
        .status();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("No space left on device") && text.contains(&format!("{d}/version-2/log.")),
        "the log must say the disk is full and name the file: {text}"
    );
}
