//! A lean HTTP/1.1 load generator for a benchmark whose server runs on the same machine: the
//! cheaper the client, the more of the machine the server under test gets. Every request is
//! built before the clock starts (by the caller), each connection keeps one keep-alive socket
//! and one request in flight, and a reply is read only as far as its status line,
//! `Content-Length` and, for a failure, the `"code"` in its body. One thread, one poller
//! (epoll on Linux).
//!
//! - Closed loop (`interval_ms == 0`): a connection sends its next request when the last one is
//!   answered.
//! - Paced (open loop): connection `i` of `n` sends request `b` at
//!   `start + (i / n + b) * interval_ms`, so the offered rate is `n / interval_ms`, evenly
//!   spread. Latency runs from the scheduled time, so a server (or client) that falls behind
//!   pays for it in the percentiles (no coordinated omission).
//!
//! Each connection first sends its warm-up request (untimed), then its timed ones.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;

/// What to send: for each connection, one warm-up request and then `timed` requests.
pub struct LoadPlan {
    pub addr: SocketAddr,
    /// Request bytes, connection after connection: its warm-up request, then its timed ones.
    pub requests: Vec<u8>,
    /// End offset in `requests` of each request (`connections * (1 + timed)` of them).
    pub ends: Vec<usize>,
    pub connections: usize,
    /// Timed requests per connection.
    pub timed: usize,
    /// 0: closed loop; else the interval between one connection's requests (ms).
    pub interval_ms: f64,
    /// Gives up after this long; each connection still waiting counts as `ERR_LOAD_TIMEOUT`.
    pub timeout_ms: f64,
}

/// What happened.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// Timed requests answered 2xx.
    pub acked: u64,
    /// Timed requests answered at all.
    pub replies: u64,
    /// From the start of the timed phase to the last 2xx (ms).
    pub elapsed_ms: f64,
    /// Latency of every answered timed request (ms), ascending.
    pub latencies_ms: Vec<f64>,
    /// Failures by the `code` of their JSON error body (or `HTTP_<status>`), warm-up included;
    /// `ERR_CONNECTION_CLOSED` once per connection the server closed before its last reply,
    /// `ERR_LOAD_TIMEOUT` once per connection still waiting at the timeout.
    pub failures: BTreeMap<String, u64>,
    /// CPU time this generator's thread spent in the timed phase (µs); none where the platform
    /// does not tell a thread's CPU time (Windows).
    pub cpu_us: Option<f64>,
    /// The timed phase in windows of `TIMELINE_WINDOW_MS` by send time (scheduled, when paced):
    /// where in a run its slow replies were sent, which a percentile over the run does not tell.
    pub timeline: Vec<LatencyWindow>,
}

/// Width of a `LatencyWindow` (ms).
pub const TIMELINE_WINDOW_MS: f64 = 100.0;

/// The replies to the timed requests sent in one window of the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyWindow {
    /// Start of the window, from the start of the timed phase (ms).
    pub start_ms: f64,
    /// Replies to requests sent in it.
    pub replies: u64,
    /// Their worst latency (ms).
    pub max_ms: f64,
    /// Paced: the most the generator itself sent one of them late (ms): after it could go, its
    /// scheduled time or the reply to the connection's request before, whichever came later. A
    /// delay of the client's (its thread not running, or busy) that the latency includes; a
    /// request waiting for its connection's previous reply is the server's delay, not this.
    pub max_send_late_ms: f64,
}

/// Adds a reply to the timeline: sent `sent_ms` after the start (`late_ms` after it could
/// go), answered after `latency_ms`.
fn add_to_timeline(timeline: &mut Vec<LatencyWindow>, sent_ms: f64, latency_ms: f64, late_ms: f64) {
    let k = (sent_ms.max(0.0) / TIMELINE_WINDOW_MS) as usize;
    while timeline.len() <= k {
        let start_ms = timeline.len() as f64 * TIMELINE_WINDOW_MS;
        timeline.push(LatencyWindow {
            start_ms,
            replies: 0,
            max_ms: 0.0,
            max_send_late_ms: 0.0,
        });
    }
    let w = &mut timeline[k];
    w.replies += 1;
    w.max_ms = w.max_ms.max(latency_ms);
    w.max_send_late_ms = w.max_send_late_ms.max(late_ms);
}

#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

impl LoadPlan {
    /// Whether the plan is well formed (the request ends fit the requests and counts).
    pub fn check(&self) -> Result<(), LoadError> {
        if self.connections == 0 {
            return Err(LoadError("a load needs at least one connection".into()));
        }
        if self.ends.len() != self.connections * (1 + self.timed) {
            return Err(LoadError(format!(
                "{} connections with 1 + {} requests each need {} request ends, got {}",
                self.connections,
                self.timed,
                self.connections * (1 + self.timed),
                self.ends.len()
            )));
        }
        let mut at = 0;
        for &end in &self.ends {
            if end <= at || end > self.requests.len() {
                return Err(LoadError(format!(
                    "request end {end} is out of order or past the {} bytes given",
                    self.requests.len()
                )));
            }
            at = end;
        }
        if !(self.interval_ms >= 0.0 && self.interval_ms.is_finite()) {
            return Err(LoadError(format!(
                "intervalMs must be a finite number >= 0, got {}",
                self.interval_ms
            )));
        }
        if !(self.timeout_ms > 0.0 && self.timeout_ms.is_finite()) {
            return Err(LoadError(format!(
                "timeoutMs must be a finite number > 0, got {}",
                self.timeout_ms
            )));
        }
        Ok(())
    }

    fn request(&self, connection: usize, k: usize) -> &[u8] {
        let i = connection * (1 + self.timed) + k;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.requests[start..self.ends[i]]
    }
}

/// One reply read off a connection.
#[derive(Debug)]
struct Reply {
    status: u16,
    code: Option<String>,
}

/// Takes the first complete reply off `buf`, if there is one.
fn take_reply(buf: &mut Vec<u8>) -> Result<Option<Reply>, LoadError> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = &buf[..head_end];
    if head.len() < 12 || !head.starts_with(b"HTTP/1.") {
        return Err(LoadError(format!(
            "not an HTTP/1.x reply: {:?}",
            String::from_utf8_lossy(&head[..head.len().min(40)])
        )));
    }
    let status = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| LoadError("reply without a status code".into()))?;
    let mut length = None;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > 15 && line[..15].eq_ignore_ascii_case(b"content-length:") {
            length = std::str::from_utf8(&line[15..])
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok());
        }
    }
    let length = length.ok_or_else(|| {
        LoadError("reply without Content-Length (chunked replies are not read)".into())
    })?;
    let total = head_end + 4 + length;
    if buf.len() < total {
        return Ok(None);
    }
    let code = if (200..300).contains(&status) {
        None
    } else {
        let body = &buf[head_end + 4..total];
        let key = b"\"code\":\"";
        body.windows(key.len()).position(|w| w == key).map(|at| {
            let rest = &body[at + key.len()..];
            let end = rest.iter().position(|&b| b == b'"').unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end]).into_owned()
        })
    };
    buf.drain(..total);
    Ok(Some(Reply { status, code }))
}

/// CPU time of the calling thread (µs), where the platform tells it.
#[cfg(unix)]
fn thread_cpu_us() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3)
}

#[cfg(not(unix))]
fn thread_cpu_us() -> Option<f64> {
    None
}

struct Connection {
    stream: TcpStream,
    inbox: Vec<u8>,
    /// Bytes of the request in flight not written yet.
    unsent: usize,
    /// Index of the request in flight (0: the warm-up).
    k: usize,
    /// When the request in flight counts from.
    from: Instant,
    /// When the next request may go: its scheduled time, or the previous reply if later.
    ready: Instant,
    /// How long after `ready` the generator sent the request in flight (ms; paced only).
    late_ms: f64,
    /// A request written (or being written) and not answered yet.
    in_flight: bool,
    /// Answered all it had to send (or lost its connection).
    done: bool,
}

/// Runs the plan on this thread; returns when every request is answered or the timeout passes.
pub fn run(plan: &LoadPlan) -> Result<LoadReport, LoadError> {
    plan.check()?;
    let mut poll = Poll::new().map_err(|e| LoadError(format!("epoll: {e}")))?;
    let mut conns = Vec::with_capacity(plan.connections);
    for i in 0..plan.connections {
        let std = std::net::TcpStream::connect(plan.addr)
            .map_err(|e| LoadError(format!("connecting to {}: {e}", plan.addr)))?;
        std.set_nodelay(true)
            .map_err(|e| LoadError(format!("TCP_NODELAY: {e}")))?;
        std.set_nonblocking(true)
            .map_err(|e| LoadError(format!("O_NONBLOCK: {e}")))?;
        let mut stream = TcpStream::from_std(std);
        poll.registry()
            .register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|e| LoadError(format!("epoll register: {e}")))?;
        conns.push(Connection {
            stream,
            inbox: Vec::with_capacity(1024),
            unsent: 0,
            k: 0,
            from: Instant::now(),
            ready: Instant::now(),
            late_ms: 0.0,
            in_flight: false,
            done: false,
        });
    }
    let deadline = Instant::now() + Duration::from_secs_f64(plan.timeout_ms / 1000.0);
    let mut failures = BTreeMap::new();
    let mut fail = |code: String| *failures.entry(code).or_insert(0u64) += 1;
    let mut events = Events::with_capacity(1024);

    // Warm-up: every connection's first request, all at once, untimed.
    for (i, c) in conns.iter_mut().enumerate() {
        c.unsent = plan.request(i, 0).len();
        c.in_flight = true;
        push(plan, i, c)?;
    }
    let mut waiting = plan.connections;
    let mut timed_start = None;
    let mut latencies = Vec::with_capacity(plan.connections * plan.timed);
    let mut timeline = Vec::new();
    let mut acked = 0u64;
    let mut last_ack = Instant::now();
    let mut cpu_start = None;
    // Connections waiting for their next paced send, by due time.
    let mut due: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let interval = Duration::from_secs_f64(plan.interval_ms / 1000.0);
    let schedule = |start: Instant, i: usize, b: usize| {
        start + interval.mul_f64(i as f64 / plan.connections as f64 + b as f64)
    };

    loop {
        if waiting == 0 {
            match timed_start {
                None if plan.timed > 0 => {
                    // Every warm-up answered: the clock starts in 20 ms.
                    let start = Instant::now() + Duration::from_millis(20);
                    timed_start = Some(start);
                    cpu_start = thread_cpu_us();
                    for (i, c) in conns.iter_mut().enumerate() {
                        if c.done {
                            continue;
                        }
                        c.ready = schedule(start, i, 0);
                        due.push(Reverse((c.ready, i)));
                        waiting += 1;
                    }
                    if waiting == 0 {
                        break;
                    }
                }
                _ => break,
            }
        }
        let now = Instant::now();
        if now >= deadline {
            let unanswered = waiting as u64;
            for _ in 0..unanswered {
                fail("ERR_LOAD_TIMEOUT".into());
            }
            break;
        }
        // Send whatever is due within the next millisecond (epoll's timeout is ms-precise).
        while let Some(&Reverse((at, i))) = due.peek() {
            if at > now + Duration::from_millis(1) {
                break;
            }
            due.pop();
            let c = &mut conns[i];
            if c.done {
                // Its connection closed while it waited to send.
                waiting -= 1;
                continue;
            }
            c.k += 1;
            c.in_flight = true;
            let sent = Instant::now();
            (c.from, c.late_ms) = if plan.interval_ms > 0.0 {
                (
                    at.min(sent),
                    sent.saturating_duration_since(c.ready).as_secs_f64() * 1000.0,
                )
            } else {
                (sent, 0.0)
            };
            c.unsent = plan.request(i, c.k).len();
            push(plan, i, c)?;
        }
        let timeout = due
            .peek()
            .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(50))
            .min(deadline.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LoadError(format!("epoll_wait: {e}"))),
        }
        for event in events.iter() {
            let i = event.token().0;
            let c = &mut conns[i];
            if c.done {
                continue;
            }
            if event.is_writable() && c.unsent > 0 {
                push(plan, i, c)?;
            }
            if !event.is_readable() {
                continue;
            }
            let mut closed = false;
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match c.stream.read(&mut chunk) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => c.inbox.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
            while let Some(reply) = take_reply(&mut c.inbox)? {
                let now = Instant::now();
                if !c.in_flight {
                    return Err(LoadError(format!(
                        "connection {i} got a reply to no request"
                    )));
                }
                c.in_flight = false;
                waiting -= 1;
                let ok = (200..300).contains(&reply.status);
                if !ok {
                    fail(
                        reply
                            .code
                            .unwrap_or_else(|| format!("HTTP_{}", reply.status)),
                    );
                }
                if c.k > 0 {
                    let latency_ms = now.duration_since(c.from).as_secs_f64() * 1000.0;
                    latencies.push(latency_ms);
                    let start = timed_start.expect("timed requests follow the start");
                    let sent_ms = c.from.saturating_duration_since(start).as_secs_f64() * 1000.0;
                    add_to_timeline(&mut timeline, sent_ms, latency_ms, c.late_ms);
                    if ok {
                        acked += 1;
                        last_ack = now;
                    }
                }
                if c.k > 0 && c.k < plan.timed {
                    let start = timed_start.expect("timed requests follow the start");
                    let at = if plan.interval_ms > 0.0 {
                        schedule(start, i, c.k)
                    } else {
                        now
                    };
                    c.ready = at.max(now);
                    due.push(Reverse((at, i)));
                    waiting += 1;
                } else if c.k == plan.timed {
                    c.done = true;
                }
            }
            if closed && !c.done {
                // The server hung up before the connection's last request was answered: one
                // failure for the connection; its request in flight and the rest go unanswered.
                c.done = true;
                fail("ERR_CONNECTION_CLOSED".into());
                if c.in_flight {
                    c.in_flight = false;
                    waiting -= 1;
                }
            }
        }
    }
    let cpu_us = match (timed_start, cpu_start, thread_cpu_us()) {
        (Some(_), Some(from), Some(to)) => Some(to - from),
        _ => None,
    };
    let replies = latencies.len() as u64;
    latencies.sort_by(f64::total_cmp);
    let elapsed_ms = timed_start
        .map(|s| last_ack.saturating_duration_since(s).as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    Ok(LoadReport {
        acked,
        replies,
        elapsed_ms,
        latencies_ms: latencies,
        failures,
        cpu_us,
        timeline,
    })
}

/// Writes what is left of connection `i`'s request in flight, as far as the socket takes it.
fn push(plan: &LoadPlan, i: usize, c: &mut Connection) -> Result<(), LoadError> {
    let request = plan.request(i, c.k);
    while c.unsent > 0 {
        let from = request.len() - c.unsent;
        match c.stream.write(&request[from..]) {
            Ok(n) => c.unsent -= n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Not connected yet (a non-blocking connect in progress), or gone: the writable
            // or readable event tells which.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
            Err(e) => return Err(LoadError(format!("writing to {}: {e}", plan.addr))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{add_to_timeline, take_reply, LatencyWindow};

    #[test]
    fn the_timeline_keeps_each_windows_replies_and_worst_latency() {
        let mut timeline = Vec::new();
        add_to_timeline(&mut timeline, 250.0, 3.0, 0.5);
        add_to_timeline(&mut timeline, 10.0, 7.5, 0.0);
        add_to_timeline(&mut timeline, 99.9, 1.0, 2.0);
        add_to_timeline(&mut timeline, 299.0, 40.0, 0.0);
        // A reply sent a hair before the start (a paced send scheduled at it) is the first window's.
        add_to_timeline(&mut timeline, -0.1, 2.0, 0.0);
        let w = |start_ms, replies, max_ms, max_send_late_ms| LatencyWindow {
            start_ms,
            replies,
            max_ms,
            max_send_late_ms,
        };
        assert_eq!(
            timeline,
            vec![
                w(0.0, 3, 7.5, 2.0),
                w(100.0, 0, 0.0, 0.0),
                w(200.0, 2, 40.0, 0.5)
            ]
        );
    }

    #[test]
    fn a_reply_is_taken_only_once_it_is_complete() {
        let mut buf = b"HTTP/1.1 202 Accepted\r\nContent-Length: 4\r\n\r\n{}".to_vec();
        assert!(take_reply(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"{}HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        let first = take_reply(&mut buf).unwrap().unwrap();
        assert_eq!((first.status, first.code), (202, None));
        let second = take_reply(&mut buf).unwrap().unwrap();
        assert_eq!(second.status, 200);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_failure_names_the_code_of_its_body() {
        let body = r#"{"error":{"code":"ERR_ROUND_CLOSED","message":"x"}}"#;
        let mut buf = format!(
            "HTTP/1.1 409 Conflict\r\nCONTENT-LENGTH: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        let reply = take_reply(&mut buf).unwrap().unwrap();
        assert_eq!(
            (reply.status, reply.code.as_deref()),
            (409, Some("ERR_ROUND_CLOSED"))
        );
        let mut buf = b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy".to_vec();
        assert_eq!(take_reply(&mut buf).unwrap().unwrap().code, None);
    }

    #[test]
    fn replies_it_cannot_read_are_errors() {
        let mut chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec();
        assert!(take_reply(&mut chunked)
            .unwrap_err()
            .0
            .contains("Content-Length"));
        let mut garbage = b"SSH-2.0-OpenSSH\r\n\r\n".to_vec();
        assert!(take_reply(&mut garbage)
            .unwrap_err()
            .0
            .contains("not an HTTP"));
    }
}
