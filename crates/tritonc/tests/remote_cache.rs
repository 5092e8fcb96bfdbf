//! The shared kernel cache (`TRITONC_CACHE_REMOTE`): two machines sharing
//! one Redis, a server that dies, garbage under a key, nobody listening,
//! a server that never answers, malformed URLs, and the RESP client's
//! limits. Each test starts its own `redis-server` on a free loopback port
//! (never the system one on 6379), installed by scripts/setup.sh.

use crate::common::*;
use std::{
    io::{BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tritonc::{
    cache::{
        remote::{read_reply, Client, Endpoint, RemoteError, Reply, Timeouts},
        remote_key, Cache, Lookup,
    },
    driver::{compile_cached, Compiled},
    launch::run_cpu,
    runtime::Grid,
};

const VECTOR_ADD: &str = include_str!("../../../dsl-examples/vector_add.tk");

/// A port on the loopback interface that nobody listened on a moment ago.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = l.local_addr().expect("a local address").port();
    assert_ne!(port, 6379, "never the system redis");
    port
}

/// A `redis-server` of this test's own, stopped when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(std::env::temp_dir())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match child {
                Ok(c) => c,
                Err(e) => panic!(
                    "cannot start `redis-server` ({e}): the remote cache tests need it; \
                     run scripts/setup.sh (it installs Debian's redis-server package)"
                ),
            };
            let mut redis = Redis { child, port };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = redis.child.try_wait() {
                    break; // the port was taken in the meantime: another one
                }
                let ping = Client::connect(&redis.endpoint(), Timeouts::default()).and_then(|mut c| c.ping());
                if ping.is_ok() {
                    return redis;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("redis-server did not answer PING on a loopback port (5 tries)")
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::parse(&self.url()).expect("a good URL")
    }

    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut c = Client::connect(&self.endpoint(), Timeouts::default()).expect("connect");
        c.get(key.as_bytes()).expect("GET")
    }

    /// `SET key value` written by hand, as RESP bytes on a raw socket.
    fn raw_set(&self, key: &str, value: &[u8]) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let mut cmd = format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n", key.len(), value.len()).into_bytes();
        cmd.extend_from_slice(value);
        cmd.extend_from_slice(b"\r\n");
        s.write_all(&cmd).expect("write");
        let mut reply = [0u8; 5];
        s.read_exact(&mut reply).expect("read");
        assert_eq!(&reply, b"+OK\r\n");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tritonc-remote-cache-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Compiles vector_add for the host through `cache`.
fn compile(cache: &Cache, block: i64) -> (Compiled, Lookup) {
    let t = tritonc::codegen::target::lookup("host").expect("the host target");
    compile_cached(
        &request(VECTOR_ADD, "add", &[("BLOCK", block)]),
        t.as_ref(),
        cache,
        &mut Vec::new(),
    )
    .unwrap_or_else(|e| panic!("compile failed:\n{e}"))
}

/// Runs the compiled vector_add on the CPU backend and checks the sums.
fn check_runs(c: &Compiled, block: u32) {
    let n = 1000u32;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 3.0 - i as f32).collect();
    let mut args = vec![f32s(&x), f32s(&y), f32s(&vec![0.0; n as usize]), scalar_i32(n as i32)];
    run_cpu(c, Grid([n.div_ceil(block), 1, 1]), &mut args, 2).expect("run on the CPU backend");
    let want: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    assert_eq!(as_f32(&args[2]), want);
}

/// The Redis key of the only entry in `dir`.
fn only_key(dir: &Path) -> (String, Vec<u8>) {
    let entries = Cache::at(dir).entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let digest = entries[0]
        .path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a digest")
        .to_string();
    (
        remote_key(&digest),
        std::fs::read(&entries[0].path).expect("read the entry"),
    )
}

#[test]
fn two_machines_share_one_redis() {
    let redis = Redis::start();
    let (dir_a, dir_b) = (scratch("share-a"), scratch("share-b"));
    let a = Cache::at(&dir_a).with_remote(&redis.url()).unwrap();
    let (first, how) = compile(&a, 256);
    assert!(matches!(how, Lookup::RemoteMiss(_)), "{how:?}");
    // The entry went to disk and to Redis, the same bytes.
    let (key, disk) = only_key(&dir_a);
    assert_eq!(redis.get(&key).as_deref(), Some(&disk[..]));

    // Another machine: another directory, the same Redis.
    let b = Cache::at(&dir_b).with_remote(&redis.url()).unwrap();
    let (second, how) = compile(&b, 256);
    assert_eq!(how, Lookup::RemoteHit);
    assert_eq!(first.binary, second.binary);
    check_runs(&second, 256);
    // Written back to b's disk and memory.
    assert_eq!(only_key(&dir_b), (key, disk));
    assert_eq!(compile(&b, 256).1, Lookup::MemoryHit);
    assert_eq!(compile(&Cache::at(&dir_b), 256).1, Lookup::DiskHit);
    // Local tiers come first: a's disk answers without asking Redis.
    let a2 = Cache::at(&dir_a).with_remote(&redis.url()).unwrap();
    assert_eq!(compile(&a2, 256).1, Lookup::DiskHit);
    assert!(a.remote_alive() && b.remote_alive());
}

#[test]
fn a_server_killed_mid_run_leaves_the_local_cache() {
    let mut redis = Redis::start();
    let dir = scratch("killed");
    let cache = Cache::at(&dir).with_remote(&redis.url()).unwrap();
    let (_, how) = compile(&cache, 256);
    assert!(matches!(how, Lookup::RemoteMiss(_)), "{how:?}");
    redis.kill();

    let started = Instant::now();
    let (c, how) = compile(&cache, 128);
    let took = started.elapsed();
    assert!(matches!(how, Lookup::Miss(_)), "{how:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!cache.remote_alive(), "the remote is off for the rest of the process");
    check_runs(&c, 128);
    // Every cache of the process with that URL skips it now.
    let other = Cache::at(scratch("killed-other")).with_remote(&redis.url()).unwrap();
    assert!(!other.remote_alive());
    assert!(matches!(compile(&other, 128).1, Lookup::Miss(_)));
    assert_eq!(compile(&Cache::at(&dir), 128).1, Lookup::DiskHit);
}

#[test]
fn garbage_under_the_key_is_a_miss_and_is_overwritten() {
    let redis = Redis::start();
    let dir = scratch("garbage-first");
    let first = Cache::at(&dir).with_remote(&redis.url()).unwrap();
    let (good, _) = compile(&first, 256);
    let (key, entry) = only_key(&dir);
    let mut flipped = entry.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x40;
    let damaged: [&[u8]; 4] = [b"garbage", &entry[..entry.len() / 2], &flipped, b""];
    for (i, bad) in damaged.into_iter().enumerate() {
        redis.raw_set(&key, bad);
        let dir = scratch(&format!("garbage-{i}"));
        let cache = Cache::at(&dir).with_remote(&redis.url()).unwrap();
        let (c, how) = compile(&cache, 256);
        assert!(
            matches!(how, Lookup::RemoteMiss(ref why) if why.contains("corrupt")),
            "{how:?}"
        );
        assert_eq!(c.binary, good.binary);
        check_runs(&c, 256);
        assert_eq!(redis.get(&key).as_deref(), Some(&entry[..]), "the entry is overwritten");
        assert!(cache.remote_alive(), "garbage in a value does not turn the remote off");
    }
    let (_, how) = compile(
        &Cache::at(scratch("garbage-after")).with_remote(&redis.url()).unwrap(),
        256,
    );
    assert_eq!(how, Lookup::RemoteHit);
}

#[test]
fn nobody_listening_is_the_local_cache() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let dir = scratch("nobody");
    let cache = Cache::at(&dir).with_remote(&url).unwrap();
    let started = Instant::now();
    let (c, how) = compile(&cache, 256);
    assert!(took_less(started, 5));
    assert!(matches!(how, Lookup::Miss(_)), "{how:?}");
    check_runs(&c, 256);
    assert!(!cache.remote_alive());
    assert_eq!(compile(&Cache::at(&dir), 256).1, Lookup::DiskHit);
}

fn took_less(started: Instant, secs: u64) -> bool {
    started.elapsed() < Duration::from_secs(secs)
}

/// A server that accepts and never answers costs one read timeout, once;
/// one that answers with something that is not RESP turns the remote off.
#[test]
fn silent_and_lying_servers_cost_one_timeout() {
    // Connections queue in the listener's backlog; nothing reads them.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let timeouts = Timeouts {
        connect: Duration::from_millis(250),
        io: Duration::from_millis(300),
    };
    let cache = Cache::at(scratch("silent"))
        .with_remote_timeouts(&url, timeouts)
        .unwrap();
    let started = Instant::now();
    let (c, how) = compile(&cache, 256);
    assert!(took_less(started, 5));
    assert!(matches!(how, Lookup::Miss(_)), "{how:?}");
    check_runs(&c, 256);
    assert!(!cache.remote_alive());

    let liar = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://127.0.0.1:{}", liar.local_addr().unwrap().port());
    let answer = std::thread::spawn(move || {
        if let Ok((mut s, _)) = liar.accept() {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let cache = Cache::at(scratch("liar")).with_remote(&url).unwrap();
    let (_, how) = compile(&cache, 256);
    assert!(matches!(how, Lookup::Miss(_)), "{how:?}");
    assert!(!cache.remote_alive());
    answer.join().unwrap();
}

#[test]
fn urls() {
    let ok = |url: &str, host: &str, port: u16, db: u32| {
        let e = Endpoint::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            e,
            Endpoint {
                host: host.into(),
                port,
                db
            },
            "{url}"
        );
    };
    ok("redis://cache.example:7000", "cache.example", 7000, 0);
    ok("redis://10.0.0.5:6380/3", "10.0.0.5", 6380, 3);
    ok("redis://cache/", "cache", 6379, 0);
    ok("redis://[::1]:7000/1", "::1", 7000, 1);
    for bad in [
        "",
        "cache:6379",
        "http://cache:6379",
        "rediss://cache:6379",
        "redis://",
        "redis://:6379",
        "redis://cache:port",
        "redis://cache:0",
        "redis://cache:70000",
        "redis://cache:6379/x",
        "redis://user:secret@cache:6379",
        "redis://cache:6379/0?timeout=1",
        "redis://[::1:6379",
    ] {
        let e = Endpoint::parse(bad).expect_err(bad);
        let text = e.to_string();
        assert!(
            text.contains("redis://HOST:PORT[/DB]") && !text.contains('\n'),
            "{text}"
        );
        assert!(Cache::at(scratch("bad-url")).with_remote(bad).is_err());
    }
}

#[test]
fn replies_are_parsed_and_bounded() {
    let parse = |bytes: &[u8]| read_reply(&mut BufReader::new(bytes));
    assert_eq!(parse(b"+OK\r\n").unwrap(), Reply::Status("OK".into()));
    assert_eq!(parse(b"-ERR no\r\n").unwrap(), Reply::Error("ERR no".into()));
    assert_eq!(parse(b":-42\r\n").unwrap(), Reply::Integer(-42));
    assert_eq!(parse(b"$-1\r\n").unwrap(), Reply::Bulk(None));
    assert_eq!(parse(b"$0\r\n\r\n").unwrap(), Reply::Bulk(Some(Vec::new())));
    assert_eq!(
        parse(b"$4\r\na\r\nb\r\n").unwrap(),
        Reply::Bulk(Some(b"a\r\nb".to_vec()))
    );
    assert_eq!(
        parse(b"*2\r\n$1\r\nx\r\n*-1\r\n").unwrap(),
        Reply::Array(Some(vec![Reply::Bulk(Some(b"x".to_vec())), Reply::Array(None)]))
    );
    assert!(matches!(parse(b"$2000000000\r\n"), Err(RemoteError::TooLarge(_))));
    assert!(matches!(parse(b"$5\r\nab"), Err(RemoteError::Closed)));
    assert!(matches!(parse(b""), Err(RemoteError::Closed)));
    for bad in [
        &b"$3\r\nabcde"[..],
        b"$-2\r\n",
        b"$x\r\n",
        b"*-5\r\n",
        b"*99999999\r\n",
        b"?\r\n",
        b"+OK\n",
        b"\r\n",
    ] {
        assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    let long = [b"+".as_slice(), &vec![b'a'; 70_000], b"\r\n"].concat();
    assert!(matches!(parse(&long), Err(RemoteError::Protocol(_))));
    let deep = "*1\r\n".repeat(20);
    assert!(matches!(parse(deep.as_bytes()), Err(RemoteError::Protocol(_))));
}

/// The CLI through the environment: `TRITONC_LOG=cache` says `remote
/// miss` then `remote hit`; a malformed URL and a dead server are one
/// warning each, and the compile succeeds.
#[test]
fn the_cli_reads_the_environment() {
    let redis = Redis::start();
    let file = format!("{}/../../dsl-examples/vector_add.tk", env!("CARGO_MANIFEST_DIR"));
    let run = |dir: &Path, remote: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_tritonc"))
            .env("TRITONC_CACHE_DIR", dir)
            .env("TRITONC_CACHE_REMOTE", remote)
            .env("TRITONC_LOG", "cache")
            .args(["compile", &file, "--target", "gfx942", "--const", "BLOCK=256", "-o"])
            .arg(dir.with_file_name(format!("{}.hsaco", dir.file_name().unwrap().to_string_lossy())))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        err
    };
    let first = run(&scratch("cli-a"), &redis.url());
    assert!(
        first.contains("tritonc cache: remote miss for `add` on gfx942"),
        "{first}"
    );
    let second = run(&scratch("cli-b"), &redis.url());
    assert!(
        second.contains("tritonc cache: remote hit for `add` on gfx942"),
        "{second}"
    );

    let bad = run(&scratch("cli-bad"), "redis//nope");
    let warnings: Vec<&str> = bad.lines().filter(|l| l.contains("TRITONC_CACHE_REMOTE")).collect();
    assert_eq!(warnings.len(), 1, "{bad}");
    assert!(warnings[0].contains("not a Redis URL"), "{bad}");
    assert!(bad.contains("tritonc cache: miss for `add`"), "{bad}");

    let dead = format!("redis://127.0.0.1:{}", free_port());
    let down = run(&scratch("cli-down"), &dead);
    let warnings: Vec<&str> = down.lines().filter(|l| l.contains("unreachable")).collect();
    assert_eq!(warnings.len(), 1, "{down}");
    assert!(
        warnings[0].starts_with(&format!("tritonc cache: remote {dead} unreachable (")),
        "{down}"
    );
    assert!(warnings[0].ends_with("); going on without it"), "{down}");
}
