//! The generator against small servers on 127.0.0.1: every request answered and counted, the
//! paced schedule kept, failures named by their code, a server that hangs up does not hang
//! the load, and malformed plans refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;

use http_load::{run, LoadPlan};

/// What the test server does with each request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// 202 `{}`; 400 `{"error":{"code":"ERR_TEST",…}}` for a path with `/fail`.
    Answer,
    /// Answers the first request of a connection, then closes it.
    HangUpAfterOne,
    /// Reads requests and never answers.
    Silent,
}

fn server(behaviour: Behaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                let mut answered = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or("").to_string();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header == "\r\n" {
                            break;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    if matches!(behaviour, Behaviour::Silent) {
                        continue;
                    }
                    let reply = if path.contains("/fail") {
                        let body = r#"{"error":{"code":"ERR_TEST","message":"refused"}}"#;
                        format!("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nCONTENT-LENGTH: {}\r\n\r\n{body}", body.len())
                    } else {
                        "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}".to_string()
                    };
                    out.write_all(reply.as_bytes()).unwrap();
                    answered += 1;
                    if matches!(behaviour, Behaviour::HangUpAfterOne) && answered == 1 {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn request(path: &str) -> Vec<u8> {
    let body = r#"{"n":1}"#;
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `connections` connections, each a warm-up and `timed` requests to `path(connection, k)`.
fn plan(
    addr: SocketAddr,
    connections: usize,
    timed: usize,
    interval_ms: f64,
    path: impl Fn(usize, usize) -> String,
) -> LoadPlan {
    let mut requests = Vec::new();
    let mut ends = Vec::new();
    for c in 0..connections {
        for k in 0..=timed {
            requests.extend(request(&path(c, k)));
            ends.push(requests.len());
        }
    }
    LoadPlan {
        addr,
        requests,
        ends,
        connections,
        timed,
        interval_ms,
        timeout_ms: 30_000.0,
    }
}

#[test]
fn closed_loop_answers_and_counts_every_request() {
    let addr = server(Behaviour::Answer);
    let report = run(&plan(addr, 4, 10, 0.0, |_, _| "/ok".into())).unwrap();
    assert_eq!(report.acked, 40);
    assert_eq!(report.replies, 40);
    assert_eq!(report.latencies_ms.len(), 40);
    assert!(
        report.latencies_ms.windows(2).all(|w| w[0] <= w[1]),
        "latencies come sorted"
    );
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    #[cfg(unix)]
    assert!(report.cpu_us.is_some_and(|us| us > 0.0));
}

#[test]
fn paced_requests_wait_for_their_scheduled_time() {
    let addr = server(Behaviour::Answer);
    // The last request is due at (3/4 + 4) * 20 ms = 95 ms after the start.
    let report = run(&plan(addr, 4, 5, 20.0, |_, _| "/ok".into())).unwrap();
    assert_eq!(report.acked, 20);
    assert!(
        report.elapsed_ms >= 94.0,
        "finished {} ms after the start, before the last request was due",
        report.elapsed_ms
    );
}

#[test]
fn failures_are_named_by_their_code_and_not_acked() {
    let addr = server(Behaviour::Answer);
    // Connection 1's timed requests 2 and 4 fail, and so does connection 0's warm-up.
    let report = run(&plan(addr, 2, 4, 0.0, |c, k| {
        if (c == 1 && k % 2 == 0 && k > 0) || (c == 0 && k == 0) {
            "/fail".into()
        } else {
            "/ok".into()
        }
    }))
    .unwrap();
    assert_eq!(report.replies, 8);
    assert_eq!(report.acked, 6);
    assert_eq!(report.failures.get("ERR_TEST"), Some(&3));
}

#[test]
fn a_server_that_hangs_up_ends_the_load_with_the_loss_counted() {
    let addr = server(Behaviour::HangUpAfterOne);
    let report = run(&plan(addr, 3, 5, 0.0, |_, _| "/ok".into())).unwrap();
    // Each connection's warm-up is answered, then the server closes it: none of its timed
    // requests is answered, and the loss is counted once per connection.
    assert_eq!(report.acked, 0);
    assert_eq!(report.failures.get("ERR_CONNECTION_CLOSED"), Some(&3));
}

#[test]
fn a_server_that_never_answers_times_out_with_each_waiting_connection_counted() {
    let addr = server(Behaviour::Silent);
    let mut p = plan(addr, 3, 2, 0.0, |_, _| "/ok".into());
    p.timeout_ms = 200.0;
    let report = run(&p).unwrap();
    assert_eq!((report.acked, report.replies), (0, 0));
    assert_eq!(report.failures.get("ERR_LOAD_TIMEOUT"), Some(&3));
}

#[test]
fn an_unreachable_server_is_an_error() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap(); // bound, then dropped: nothing listens
    let e = run(&plan(addr, 1, 1, 0.0, |_, _| "/ok".into())).unwrap_err();
    assert!(e.0.contains("connecting to"), "{e}");
}

#[test]
fn malformed_plans_are_refused() {
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let mut p = plan(addr, 2, 2, 0.0, |_, _| "/ok".into());
    p.ends.pop();
    assert!(run(&p).unwrap_err().0.contains("request ends"));
    let mut p = plan(addr, 2, 2, 0.0, |_, _| "/ok".into());
    p.ends.swap(0, 1);
    assert!(run(&p).unwrap_err().0.contains("out of order"));
    let mut p = plan(addr, 1, 1, -1.0, |_, _| "/ok".into());
    assert!(run(&p).unwrap_err().0.contains("intervalMs"));
    p.interval_ms = 0.0;
    p.timeout_ms = 0.0;
    assert!(run(&p).unwrap_err().0.contains("timeoutMs"));
    let p = LoadPlan {
        addr,
        requests: vec![],
        ends: vec![],
        connections: 0,
        timed: 0,
        interval_ms: 0.0,
        timeout_ms: 1.0,
    };
    assert!(run(&p).unwrap_err().0.contains("at least one connection"));
}
