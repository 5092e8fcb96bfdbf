//! The remote tier of the kernel cache: a Redis store that a fleet of
//! machines shares (`TRITONC_CACHE_REMOTE=redis://HOST:PORT[/DB]`).
//!
//! This is a small RESP2 client over [`std::net::TcpStream`], written here
//! rather than taken from a crate: the cache needs four commands (`PING`,
//! `SELECT`, `GET`, `SET`) without `AUTH` or TLS, and the `redis` crate
//! would bring a dependency tree (and features to pin) for those few
//! lines. No new dependency is needed.
//!
//! Every step is bounded: the connection by a connect timeout, every read
//! and write by an I/O timeout, a whole command by a deadline (a server
//! that drips one byte a second cannot hold a compile), a reply line by
//! [`MAX_LINE`] bytes, a bulk string by [`MAX_BULK`] bytes (memory grows as
//! the bytes arrive, not as the server claims), arrays by [`MAX_ARRAY`]
//! items and [`MAX_DEPTH`] levels. Nothing from the network is trusted:
//! every failure is a [`RemoteError`], never a panic. The cache above
//! turns any error into "going on without the remote" (see
//! [`crate::cache`]).

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    time::{Duration, Instant},
};

/// The longest status, error or length line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// The longest bulk string accepted (1 GiB; Redis's own limit is 512 MiB).
pub const MAX_BULK: u64 = 1 << 30;
/// The most items an array reply may have.
pub const MAX_ARRAY: i64 = 1 << 20;
/// How deeply array replies may nest.
pub const MAX_DEPTH: usize = 8;

/// Why a remote operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("`{url}` is not a Redis URL: {why} (expected redis://HOST:PORT[/DB])")]
    BadUrl { url: String, why: String },
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {io:?} (the timeout of each read or write; {command:?} for a whole command)")]
    Timeout { io: Duration, command: Duration },
    #[error("the server closed the connection")]
    Closed,
    #[error("not a RESP reply: {0}")]
    Protocol(String),
    #[error("a reply of {0} bytes is over the limit")]
    TooLarge(u64),
    #[error("the server answered with an error: {0}")]
    Server(String),
    #[error("unexpected reply to {command}: {reply:?}")]
    Unexpected { command: &'static str, reply: Reply },
}

/// Where a Redis server is: a parsed `redis://HOST:PORT[/DB]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub db: u32,
}

impl Endpoint {
    /// Parses `redis://HOST[:PORT][/DB]` (the port defaults to 6379, the
    /// database to 0; an IPv6 host is written in brackets).
    pub fn parse(url: &str) -> Result<Endpoint, RemoteError> {
        let bad = |why: &str| RemoteError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let rest = if let Some(r) = url.strip_prefix("redis://") {
            r
        } else if url.starts_with("rediss://") {
            return Err(bad("TLS (rediss://) is not supported"));
        } else {
            return Err(bad("it does not start with redis://"));
        };
        if rest.contains(['?', '#']) {
            return Err(bad("query strings and fragments are not supported"));
        }
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("a user or password (AUTH) is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("an unclosed `[` in the host"))?;
            match after {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after the IPv6 host"))?),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => 6379,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return Err(bad(&format!("`{p}` is not a port"))),
            },
        };
        let db = match path {
            "" => 0,
            p => p
                .parse::<u32>()
                .map_err(|_| bad(&format!("`{p}` is not a database number")))?,
        };
        Ok(Endpoint {
            host: host.to_string(),
            port,
            db,
        })
    }
}

/// How long the client waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For each address the host resolves to.
    pub connect: Duration,
    /// For each read or write; a whole command gets [`Timeouts::command`].
    pub io: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_millis(250),
            io: Duration::from_secs(1),
        }
    }
}

impl Timeouts {
    /// Both timeouts `ms` milliseconds (`TRITONC_CACHE_REMOTE_TIMEOUT_MS`).
    pub fn both(ms: u64) -> Timeouts {
        let d = Duration::from_millis(ms.max(1));
        Timeouts { connect: d, io: d }
    }

    /// The most a whole command (request and reply) may take.
    pub fn command(&self) -> Duration {
        self.io.saturating_mul(10)
    }
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Integer(i64),
    /// `None` is the nil bulk string (`$-1`).
    Bulk(Option<Vec<u8>>),
    /// `None` is the nil array (`*-1`).
    Array(Option<Vec<Reply>>),
}

/// The command's bytes: a RESP array of bulk strings.
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one reply (bounded: see the module's limits).
pub fn read_reply(r: &mut impl BufRead) -> Result<Reply, RemoteError> {
    read_reply_at(r, 0)
}

fn read_reply_at(r: &mut impl BufRead, depth: usize) -> Result<Reply, RemoteError> {
    let line = read_line(r)?;
    let (&kind, rest) = line
        .split_first()
        .ok_or_else(|| RemoteError::Protocol("an empty line".into()))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    let number = || -> Result<i64, RemoteError> {
        std::str::from_utf8(rest)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| RemoteError::Protocol(format!("`{}` is not a number", text())))
    };
    match kind {
        b'+' => Ok(Reply::Status(text())),
        b'-' => Ok(Reply::Error(text())),
        b':' => Ok(Reply::Integer(number()?)),
        b'$' => {
            let n = number()?;
            if n == -1 {
                return Ok(Reply::Bulk(None));
            }
            let len = u64::try_from(n).map_err(|_| RemoteError::Protocol(format!("a bulk length of {n}")))?;
            if len > MAX_BULK {
                return Err(RemoteError::TooLarge(len));
            }
            // Read as the bytes come (a lying length costs no memory).
            let mut data = Vec::new();
            r.by_ref().take(len + 2).read_to_end(&mut data)?;
            if data.len() as u64 != len + 2 {
                return Err(RemoteError::Closed);
            }
            if !data.ends_with(b"\r\n") {
                return Err(RemoteError::Protocol("a bulk string not ended by CRLF".into()));
            }
            data.truncate(len as usize);
            Ok(Reply::Bulk(Some(data)))
        }
        b'*' => {
            let n = number()?;
            if n == -1 {
                return Ok(Reply::Array(None));
            }
            if !(0..=MAX_ARRAY).contains(&n) {
                return Err(RemoteError::Protocol(format!("an array of {n} items")));
            }
            if depth >= MAX_DEPTH {
                return Err(RemoteError::Protocol("arrays nested too deeply".into()));
            }
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_reply_at(r, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        other => Err(RemoteError::Protocol(format!(
            "a reply starting with {:?}",
            char::from(other)
        ))),
    }
}

/// A line without its CRLF, at most [`MAX_LINE`] bytes.
fn read_line(r: &mut impl BufRead) -> Result<Vec<u8>, RemoteError> {
    let mut line = Vec::new();
    r.by_ref().take(MAX_LINE as u64 + 2).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(RemoteError::Closed);
    }
    if !line.ends_with(b"\n") {
        return Err(if line.len() > MAX_LINE {
            RemoteError::Protocol(format!("a line over {MAX_LINE} bytes"))
        } else {
            RemoteError::Closed
        });
    }
    if !line.ends_with(b"\r\n") {
        return Err(RemoteError::Protocol("a line not ended by CRLF".into()));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

/// The socket, with every read and write cut off at the command's deadline.
#[derive(Debug)]
struct Deadlined {
    stream: TcpStream,
    io: Duration,
    deadline: Instant,
}

impl Deadlined {
    fn left(&self) -> std::io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the command's deadline passed",
            ));
        }
        Ok(left.min(self.io))
    }
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left()?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let left = self.left()?;
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// A connection to one Redis server.
#[derive(Debug)]
pub struct Client {
    conn: BufReader<Deadlined>,
    timeouts: Timeouts,
}

impl Client {
    /// Connects (trying each address the host resolves to), and selects
    /// the endpoint's database.
    pub fn connect(endpoint: &Endpoint, timeouts: Timeouts) -> Result<Client, RemoteError> {
        let addrs: Vec<SocketAddr> = (endpoint.host.as_str(), endpoint.port)
            .to_socket_addrs()
            .map_err(|e| RemoteError::Resolve(format!("{}: {e}", endpoint.host)))?
            .collect();
        let mut last = RemoteError::Resolve(format!("{}: no addresses", endpoint.host));
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeouts.connect) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    let mut client = Client {
                        conn: BufReader::new(Deadlined {
                            stream,
                            io: timeouts.io,
                            deadline: Instant::now(),
                        }),
                        timeouts,
                    };
                    if endpoint.db != 0 {
                        let db = endpoint.db.to_string();
                        client.expect_ok("SELECT", &[b"SELECT", db.as_bytes()])?;
                    }
                    return Ok(client);
                }
                Err(e) => last = RemoteError::Io(e),
            }
        }
        Err(last)
    }

    /// Sends one command and reads its reply.
    pub fn command(&mut self, args: &[&[u8]]) -> Result<Reply, RemoteError> {
        let (io, limit) = (self.timeouts.io, self.timeouts.command());
        self.conn.get_mut().deadline = Instant::now() + limit;
        // A read or write timeout is EAGAIN (WouldBlock) on Unix.
        let deadline_passed = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                RemoteError::Timeout { io, command: limit }
            }
            _ => RemoteError::Io(e),
        };
        let bytes = encode_command(args);
        self.conn.get_mut().write_all(&bytes).map_err(deadline_passed)?;
        match read_reply(&mut self.conn) {
            Err(RemoteError::Io(e)) => Err(deadline_passed(e)),
            other => other,
        }
    }

    fn expect_ok(&mut self, command: &'static str, args: &[&[u8]]) -> Result<(), RemoteError> {
        match self.command(args)? {
            Reply::Status(s) if s == "OK" || (command == "PING" && s == "PONG") => Ok(()),
            Reply::Error(e) => Err(RemoteError::Server(e)),
            reply => Err(RemoteError::Unexpected { command, reply }),
        }
    }

    /// `PING`.
    pub fn ping(&mut self) -> Result<(), RemoteError> {
        self.expect_ok("PING", &[b"PING"])
    }

    /// `GET key`: the value, or `None` when the key is not set.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, RemoteError> {
        match self.command(&[b"GET", key])? {
            Reply::Bulk(v) => Ok(v),
            Reply::Error(e) => Err(RemoteError::Server(e)),
            reply => Err(RemoteError::Unexpected { command: "GET", reply }),
        }
    }

    /// `SET key value`.
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), RemoteError> {
        self.expect_ok("SET", &[b"SET", key, value])
    }
}
